// Reports panel of the admin page (issue 13): utilization heat-map (bay x hour of the week over
// the last N full weeks), per-day totals, and the CSV exports. The heat-map's colours are only a
// picture: the same figures are in a real table beside it (screen readers, colour-blind staff).
import { esc } from './api.js'

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
const pct = (v) => `${Math.round(v * 100)}%`
const $ = (id) => document.getElementById(id)

/** 'YYYY-MM-DD' plus n days (calendar arithmetic). */
function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}

export function createReportsPanel({ api, getToken, today }) {
  const weeks = $('reports-weeks')
  const bay = $('reports-bay')
  const from = $('reports-from')
  const to = $('reports-to')
  const status = $('reports-status')
  let heat = null
  let loadedOnce = false

  function renderHeatmap() {
    const el = $('reports-heatmap')
    if (!heat) return
    // Columns: bay label, then 168 hours (Monday 00:00 first); a day label over each 24.
    const head = `<span class="rh-corner"></span>${DAYS.map((d) => `<span class="rh-day">${d}</span>`).join('')}`
    const rows = heat.machines
      .map((id, i) => `<span class="rh-bay">${id}</span>${heat.utilization[i].map((v) => `<span class="rh-cell" style="--v:${v}"></span>`).join('')}`)
      .join('')
    el.innerHTML = head + rows
    const options = ['<option value="">all bays (average)</option>', ...heat.machines.map((id) => `<option value="${id}">bay ${id}</option>`)]
    const keep = bay.value
    bay.innerHTML = options.join('')
    bay.value = heat.machines.includes(Number(keep)) ? keep : ''
    $('reports-heat-caption').textContent = `${heat.from_date} to ${heat.to_date} (${heat.weeks} full week${heat.weeks > 1 ? 's' : ''}, ${heat.timezone}): share of each hour sold. Darker is busier.`
    renderHeatTable()
  }

  /** The table alternative: hours down, weekdays across, for all bays (average) or one bay. */
  function renderHeatTable() {
    if (!heat) return
    const pick = bay.value === '' ? null : heat.machines.indexOf(Number(bay.value))
    const at = (cell) =>
      pick === null ? heat.utilization.reduce((a, row) => a + row[cell], 0) / Math.max(1, heat.machines.length) : heat.utilization[pick][cell]
    const body = Array.from({ length: 24 }, (_, h) => {
      const cells = DAYS.map((_, d) => `<td>${pct(at(d * 24 + h))}</td>`).join('')
      return `<tr><th scope="row">${String(h).padStart(2, '0')}:00</th>${cells}</tr>`
    }).join('')
    const which = pick === null ? 'all bays, average' : `bay ${bay.value}`
    $('reports-heat-table').innerHTML =
      `<caption>Hours sold by hour of the week, ${esc(which)}</caption>` +
      `<thead><tr><th scope="col">Hour</th>${DAYS.map((d) => `<th scope="col">${d}</th>`).join('')}</tr></thead><tbody>${body}</tbody>`
  }

  function renderDaily(daily) {
    const money = (v) => (v === null ? '—' : (v / 100).toFixed(2))
    const row = (label, f, scope = 'row') =>
      `<tr><th scope="${scope}">${esc(label)}</th><td>${f.sessions}</td><td>${f.hours_sold}</td><td>${f.hours_blocked}</td><td>${pct(f.utilization)}</td><td>${money(f.takings_minor)}</td></tr>`
    $('reports-daily').innerHTML =
      `<caption>Per day, ${esc(daily.from_date)} to ${esc(daily.to_date)}, ${daily.bays} bays</caption>` +
      '<thead><tr><th scope="col">Date</th><th scope="col">Sessions</th><th scope="col">Bay hours sold</th><th scope="col">Blocked</th><th scope="col">Utilization</th><th scope="col">Takings</th></tr></thead>' +
      `<tbody>${daily.days.map((d) => row(d.date, d)).join('')}</tbody><tfoot>${row('Total', daily.totals)}</tfoot>`
  }

  function exportLinks() {
    const q = new URLSearchParams({ from: from.value, to: to.value })
    for (const a of document.querySelectorAll('#reports-panel a[data-export]')) a.href = `/api/export/${a.dataset.export}.csv?${q}`
  }

  async function load() {
    if (!loadedOnce) {
      const t = today() ?? new Date().toISOString().slice(0, 10)
      to.value = t
      from.value = addDays(t, -29)
      loadedOnce = true
    }
    exportLinks()
    status.textContent = 'Loading…'
    try {
      const q = new URLSearchParams({ from: from.value, to: to.value })
      const [h, d] = await Promise.all([api.get(`/api/reports/heatmap?weeks=${weeks.value}`), api.get(`/api/reports/daily?${q}`)])
      heat = h
      renderHeatmap()
      renderDaily(d)
      status.textContent = ''
    } catch (e) {
      status.textContent = e.message
    }
  }

  // Signed in with the admin token (not a cookie), a plain link would go without it: fetch it instead.
  $('reports-panel').addEventListener('click', async (event) => {
    const a = event.target.closest('a[data-export]')
    const token = getToken()
    if (!a || !token) return
    event.preventDefault()
    status.textContent = 'Exporting…'
    try {
      const res = await fetch(a.href, { headers: { authorization: `Bearer ${token}` } })
      if (!res.ok) throw new Error((await res.json().catch(() => null))?.message ?? res.statusText)
      const url = URL.createObjectURL(await res.blob())
      const save = document.createElement('a')
      save.href = url
      save.download = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `${a.dataset.export}.csv`
      save.click()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
      status.textContent = ''
    } catch (e) {
      status.textContent = e.message
    }
  })
  $('reports-form').addEventListener('submit', (event) => {
    event.preventDefault()
    void load()
  })
  weeks.addEventListener('change', load)
  bay.addEventListener('change', renderHeatTable)
  for (const input of [from, to]) input.addEventListener('change', exportLinks)
  return { load }
}
