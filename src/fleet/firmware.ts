/**
 * Firmware images (issue 16): an upload is streamed to a temp file under
 * `${dataDir}/firmware/`, hashed (SHA-256) and counted as it arrives and cut off at
 * HUB_FIRMWARE_MAX_BYTES, never buffered whole; with HUB_FIRMWARE_PUBLIC_KEY set its Ed25519
 * signature must verify. Then fsync + rename, and the metadata with its audit entry in one
 * synced batch. Dispensers download it from `/fw/<token>` (a random 128-bit token per image).
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto'
import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { err, ok, type Result } from '../lib/result.js'
import { actorLabel, type Actor } from '../protocol/actor.js'
import type { FirmwareImage } from '../protocol/fleet.js'
import type { FleetErrorCode } from './enrollment.js'
import type { FleetStore, StoredImage } from './store.js'

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** HUB_FIRMWARE_PUBLIC_KEY: a PEM file path, or base64 of the 32 raw key bytes. Throws naming the setting. */
export function loadPublicKey(setting: string | null): KeyObject | null {
  if (setting === null) return null
  try {
    if (existsSync(setting)) return createPublicKey(readFileSync(setting))
    const raw = Buffer.from(setting, 'base64')
    if (raw.length !== 32) throw new Error('not 32 bytes')
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
  } catch (error) {
    throw new Error(`invalid setting HUB_FIRMWARE_PUBLIC_KEY: not a PEM file nor base64 of an Ed25519 key (${(error as Error).message})`)
  }
}

export interface FirmwareDeps {
  dataDir: string
  store: FleetStore
  maxBytes: number
  publicKey: KeyObject | null
  nowS(): number
}

export interface Firmware {
  upload(body: Readable, version: string, signature: string | undefined, by: Actor): Promise<Result<FirmwareImage, FleetErrorCode>>
  list(): FirmwareImage[]
  /** the file and size behind a download token */
  download(token: string): { path: string; size: number } | undefined
  pathOf(image: StoredImage): string
}

const publicView = ({ token: _token, ...image }: StoredImage): FirmwareImage => image

export function createFirmware(deps: FirmwareDeps): Firmware {
  const dir = join(deps.dataDir, 'firmware')
  const pathOf = (image: Pick<StoredImage, 'version'>) => join(dir, `${image.version}.bin`)

  /** Streams into `tmp`, hashing; stops reading past the cap. */
  const receive = async (body: Readable, tmp: string): Promise<Result<{ size: number; sha256: string }, FleetErrorCode>> => {
    const hash = createHash('sha256')
    let size = 0
    const file = await open(tmp, 'w', 0o600)
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > deps.maxBytes) {
          body.destroy()
          return err('FIRMWARE_INVALID', `body: the image is larger than ${deps.maxBytes} bytes (HUB_FIRMWARE_MAX_BYTES)`, 'body')
        }
        hash.update(chunk)
        await file.write(chunk)
      }
      await file.sync()
    } finally {
      await file.close()
    }
    if (size === 0) return err('FIRMWARE_INVALID', 'body: the image is empty', 'body')
    return ok({ size, sha256: hash.digest('hex') })
  }

  return {
    async upload(body, version, signature, by) {
      if (deps.store.image(version)) {
        body.resume()
        return err('ROLLOUT_CONFLICT', `version: ${version} was uploaded already; give the new image a new version`, 'version')
      }
      if (signature !== undefined && !deps.publicKey) {
        body.resume()
        return err('FIRMWARE_INVALID', 'signature: no HUB_FIRMWARE_PUBLIC_KEY is set to check it against', 'signature')
      }
      if (signature === undefined && deps.publicKey) {
        body.resume()
        return err('FIRMWARE_INVALID', 'signature: required (HUB_FIRMWARE_PUBLIC_KEY is set)', 'signature')
      }
      await mkdir(dir, { recursive: true, mode: 0o750 })
      const tmp = join(dir, `.upload-${process.pid}-${randomBytes(6).toString('hex')}`)
      try {
        const got = await receive(body, tmp)
        if (!got.ok) return got
        if (deps.publicKey && signature !== undefined) {
          const sig = Buffer.from(signature, 'base64')
          // Ed25519 signs the whole image (RFC 8032, no pre-hash); the image is capped, so reading it back is bounded.
          if (sig.length !== 64 || !verify(null, await readFile(tmp), deps.publicKey, sig)) {
            return err('FIRMWARE_INVALID', 'signature: does not verify against HUB_FIRMWARE_PUBLIC_KEY', 'signature')
          }
        }
        const image: StoredImage = {
          version,
          size: got.value.size,
          sha256: got.value.sha256,
          signed: signature !== undefined,
          uploaded_at: deps.nowS(),
          uploaded_by: actorLabel(by),
          token: randomBytes(16).toString('hex'),
        }
        await rename(tmp, pathOf(image))
        const d = await open(dir, 'r')
        try {
          await d.sync()
        } finally {
          await d.close()
        }
        await deps.store.write({
          images: [image],
          audit: [{ at: deps.nowS(), actor: actorLabel(by), kind: 'firmware.uploaded', before: null, after: { version, size: image.size, sha256: image.sha256, signed: image.signed } }],
        })
        return ok(publicView(image))
      } finally {
        await rm(tmp, { force: true })
      }
    },
    list: () => deps.store.images().map(publicView),
    download(token) {
      const image = deps.store.imageByToken(token)
      return image ? { path: pathOf(image), size: image.size } : undefined
    },
    pathOf,
  }
}

export { createReadStream }
