// "Affected sessions" panel of the admin page (issue 11): sessions on a bay that stopped working
// (maintenance, error, offline past the grace, an admin stop), each with a one-tap Move to the
// nearest free bay the hub suggests (GET /api/sessions/{id}/alternatives). The button names its
// target, and the tap moves there (POST /api/sessions/{id}/move with that machine_id): what staff
// read is what happens. Kept live by the feed's `session.affected` events.
import { esc } from './api.js'

export function createAffectedPanel({ api, toast, fmt }) {
  const list = document.getElementById('affected')
  const count = document.getElementById('affected-count')
  /** session_id -> AffectedSession (flagged now) */
  const flagged = new Map()
  /** session_id -> suggested bays (null: none free), fetched once per flag */
  const targets = new Map()
  const moving = new Set()

  const bays = (ids) => `${ids.length > 1 ? 'bays' : 'bay'} ${ids.join(', ')}`

  async function suggest(id) {
    if (targets.has(id)) return
    targets.set(id, undefined)
    try {
      const reply = await api.get(`/api/sessions/${id}/alternatives?limit=1`)
      targets.set(id, reply.alternatives[0]?.machine_id ?? null)
    } catch (e) {
      targets.set(id, null)
      toast(`No move for session ${id}: ${e.message}`, true)
    }
    render()
  }

  function item(a) {
    const f = fmt()
    const target = targets.get(a.session_id)
    const lost = a.lost_seconds > 0 ? ` · lost ${Math.ceil(a.lost_seconds / 60)} min` : ''
    const button =
      target === undefined
        ? '<button type="button" disabled>Finding a bay…</button>'
        : target === null
          ? '<button type="button" disabled>No free bay</button>'
          : `<button type="button" class="primary" data-move="${a.session_id}" data-to="${target.join(',')}"${moving.has(a.session_id) ? ' disabled' : ''}>Move to ${esc(bays(target))}</button>`
    return `<li data-session="${a.session_id}" class="${a.running ? 'running' : 'upcoming'}">
      <div><b>Session ${a.session_id}</b> · ${esc(bays(a.machine_id))} · ${esc(f.time(a.start_time))}–${esc(f.time(a.end_time))}${a.running ? ' · <b>running</b>' : ''}${esc(lost)}
      <div class="muted">${esc(a.bays.map((b) => b.message).join('; '))}</div></div>
      ${button}</li>`
  }

  function render() {
    const shown = [...flagged.values()].sort((a, b) => Number(b.running) - Number(a.running) || a.start_time - b.start_time)
    count.textContent = shown.length ? String(shown.length) : ''
    list.innerHTML = shown.map(item).join('') || '<li class="none muted">No session is on a bay that cannot serve it.</li>'
  }

  function update(a) {
    if (a.affected) {
      const known = flagged.get(a.session_id)
      // a changed flag (other bays, another problem) may have another best target
      if (!known || known.machine_id.join(',') !== a.machine_id.join(',')) targets.delete(a.session_id)
      flagged.set(a.session_id, a)
      void suggest(a.session_id)
    } else {
      flagged.delete(a.session_id)
      targets.delete(a.session_id)
    }
    render()
  }

  list.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-move]')
    if (!button) return
    const id = Number(button.dataset.move)
    const to = button.dataset.to.split(',').map(Number)
    moving.add(id)
    render()
    try {
      const moved = await api.post(`/api/sessions/${id}/move`, { machine_id: to, reason: 'moved off a bay that cannot serve it' })
      toast(`Session ${id} moved from ${bays(moved.from)} to ${bays(moved.session.machine_id)}`)
    } catch (e) {
      toast(`Session ${id} was not moved: ${e.message}`, true)
      targets.delete(id)
      void suggest(id)
    } finally {
      moving.delete(id)
      render()
    }
  })

  return {
    /** the snapshot's list (flagged now) */
    set(all) {
      flagged.clear()
      targets.clear()
      for (const a of all ?? []) update(a)
      render()
    },
    update,
  }
}
