// Dispensers panel of the admin page (issue 16): the enrollment window ("permit join"), devices
// waiting for a bay (identify: the status LED blinks; assign: it becomes that bay), firmware
// upload and rollouts with progress per bay. Polls while the window is open or a rollout runs.
import { esc } from './api.js'

const STATE_WORDS = { queued: 'queued', waiting: 'waiting', updating: 'updating…', updated: 'updated', failed: 'update failed', skipped: 'already on it' }

export function createFleetPanel({ api, getToken, getFmt }) {
  const $ = (id) => document.getElementById(id)
  const status = $('enroll-status')
  const pendingBody = $('fleet-pending')
  const message = $('fleet-message')
  const versions = $('fw-rollout-version')
  const progress = $('fw-progress')
  const summary = $('fw-summary')
  let timer
  let lastRollout = null

  const say = (text, error = false) => {
    message.textContent = text
    message.classList.toggle('error', error)
  }
  const guarded = (fn) => async (...args) => {
    try {
      await fn(...args)
    } catch (e) {
      say(e.message, true)
    }
  }

  function renderEnrollment(e) {
    status.textContent = e.open ? `Enrollment open until ${getFmt().time(e.until)}` : 'Enrollment closed'
    status.dataset.open = String(e.open)
    pendingBody.innerHTML =
      e.pending
        .map(
          (d) => `<tr data-mac="${esc(d.mac)}"><td class="mono">${esc(d.mac)}</td><td>${esc(d.firmware)}</td><td>${esc(d.ip_address ?? '')}</td>
        <td>${d.rssi === null ? '' : `${esc(String(d.rssi))} dBm`}</td>
        <td>${d.state === 'assigning' ? `assigning to bay ${esc(String(d.machine_id))}…` : 'waiting'}</td>
        <td><button type="button" data-act="identify">Identify</button>
        <label>Bay <input type="number" min="1" max="9999" data-bay size="4" aria-label="Bay for ${esc(d.mac)}"></label>
        <button type="button" data-act="assign">Assign</button></td></tr>`,
        )
        .join('') || `<tr><td colspan="6" class="muted">${e.open ? 'Waiting for devices to announce themselves…' : 'No device waiting.'}</td></tr>`
  }

  function renderRollout(r) {
    lastRollout = r
    if (!r) {
      summary.textContent = 'No rollout yet.'
      progress.innerHTML = ''
      return
    }
    const count = (s) => r.bays.filter((b) => b.state === s).length
    summary.textContent = `Rollout ${r.id} of ${r.version}: ${r.state}${r.paused_reason ? ` (${r.paused_reason})` : ''} · ${count('updated')} updated, ${count('updating')} updating, ${count('waiting') + count('queued')} to go, ${count('failed')} failed`
    summary.dataset.state = r.state
    progress.innerHTML = r.bays
      .map((b) => `<tr data-bay="${b.machine_id}" data-state="${esc(b.state)}"><td>Bay ${b.machine_id}</td><td>${esc(b.from_version ?? '')}</td><td>${esc(STATE_WORDS[b.state] ?? b.state)}</td><td>${esc(b.message ?? '')}</td></tr>`)
      .join('')
  }

  async function load() {
    const [enrollment, images, rollouts] = await Promise.all([api.get('/api/enrollment'), api.get('/api/firmware'), api.get('/api/firmware/rollouts')])
    renderEnrollment(enrollment)
    const chosen = versions.value
    versions.innerHTML = images.map((i) => `<option>${esc(i.version)}</option>`).join('')
    if (chosen) versions.value = chosen
    renderRollout(rollouts.at(-1) ?? null)
    clearTimeout(timer)
    const busy = enrollment.open || (lastRollout && (lastRollout.state === 'running' || lastRollout.state === 'paused'))
    timer = setTimeout(() => void load().catch((e) => say(e.message, true)), busy ? 1000 : 10000)
  }

  $('enroll-open').addEventListener('click', guarded(async () => {
    renderEnrollment(await api.post('/api/enrollment', { open: true, minutes: Number($('enroll-minutes').value) }))
    say('Enrollment is open: power on the new dispensers.')
    await load()
  }))
  $('enroll-close').addEventListener('click', guarded(async () => {
    renderEnrollment(await api.post('/api/enrollment', { open: false }))
    say('Enrollment closed.')
  }))
  pendingBody.addEventListener('click', guarded(async (event) => {
    const button = event.target.closest('button[data-act]')
    if (!button) return
    const row = button.closest('tr[data-mac]')
    const mac = row.dataset.mac
    if (button.dataset.act === 'identify') {
      await api.post(`/api/devices/${mac}/identify`, { seconds: 10 })
      say(`Device ${mac} is blinking its status LED for 10 s.`)
    } else {
      const bay = Number(row.querySelector('[data-bay]').value)
      if (!Number.isInteger(bay) || bay < 1) return say('Enter the bay number first.', true)
      await api.post(`/api/devices/${mac}/assign`, { machine_id: bay })
      say(`Device ${mac} is becoming bay ${bay}.`)
    }
    await load()
  }))

  $('fw-upload').addEventListener('submit', guarded(async (event) => {
    event.preventDefault()
    const file = $('fw-file').files[0]
    const version = $('fw-version').value.trim()
    if (!file || !version) return say('Choose an image file and give its version.', true)
    const token = getToken()
    const res = await fetch(`/api/firmware?version=${encodeURIComponent(version)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...(token && { authorization: `Bearer ${token}` }) },
      body: file,
    })
    const body = await res.json().catch(() => ({}))
    if (!res.ok) return say(body.message ?? `Upload failed (${res.status})`, true)
    say(`Uploaded ${body.version} (${body.size} bytes, SHA-256 ${body.sha256.slice(0, 12)}…).`)
    versions.value = body.version
    await load()
    versions.value = body.version
  }))
  $('fw-rollout').addEventListener('submit', guarded(async (event) => {
    event.preventDefault()
    const r = await api.post('/api/firmware/rollouts', { version: versions.value, machines: $('fw-bays').value.trim(), batch_size: Number($('fw-batch').value) })
    renderRollout(r)
    say(`Rollout ${r.id} started: idle bays first, bays in a session after it ends.`)
    await load()
  }))

  return { load: () => load().catch((e) => say(e.message, true)) }
}
