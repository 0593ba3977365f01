import { createHash } from 'node:crypto'

/** SHA-256 as 64 lowercase hex digits: how tokens, sign-ins and file sums are stored and compared. */
export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex')
