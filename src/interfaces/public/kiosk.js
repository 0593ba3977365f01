// Kiosk page (/kiosk): walk-up flow — bays and minutes, pick an option, pay, get bay numbers
// and a countdown. The kiosk token comes once from the URL (?token=) and is kept in localStorage.
import { connectLive, createApi, createHubClock, esc, newIdempotencyKey } from './api.js'
import { formatMoney, payAtCounter, providersFor } from './payment.js'
import { createTimeFormat, formatBays, formatCountdown } from './time.js'
import { LETTERS, laterStarts, pickDistinct, renderMap } from './kiosk-options.js'

const TOKEN_KEY = 'dispenser-hub.kiosk-token'
const DONE_SCREEN_MS = 120_000 // the confirmation stays up for two minutes, then the next customer
const IDLE_RESET_MS = 90_000 // an abandoned booking returns to the start screen
const $ = (id) => document.getElementById(id)

// issue 12: how this hub takes money (GET /api/payment-options); the golfer picks on the confirm step.
let providers = [payAtCounter]
let payment = payAtCounter
let paying = null
let payPoll = null
const clock = createHubClock()
let fmt = createTimeFormat(Intl.DateTimeFormat().resolvedOptions().timeZone)
/** rows of bays (snapshot.venue.rows), for the map */
let venueRows = null
/** the chosen later start (epoch s), or null for "as soon as possible" */
let fromS = null
const choice = { bays: 1, minutes: 60 }
let option = null
let booked = null
let idleTimer = null
let doneTimer = null

const token = takeToken()
const api = createApi(() => token, () => showSetup('The kiosk token was refused. Ask staff to set the kiosk up again.'))

function takeToken() {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl)
    url.searchParams.delete('token')
    // Keep the token out of the address bar, history and anyone's photo of the screen.
    history.replaceState(null, '', url.pathname + url.search + url.hash)
  }
  return localStorage.getItem(TOKEN_KEY)
}

function show(step) {
  for (const id of ['setup', 'step-choose', 'step-options', 'step-confirm', 'step-pay', 'step-done']) $(id).hidden = id !== step
  if (step !== 'step-pay') stopWaiting()
  clearTimeout(idleTimer)
  if (step === 'step-options' || step === 'step-confirm') idleTimer = setTimeout(reset, IDLE_RESET_MS)
}

function showSetup(reason) {
  $('setup-reason').textContent = reason
  show('setup')
}

function reset() {
  option = null
  booked = null
  paying = null
  clearTimeout(doneTimer)
  for (const el of document.querySelectorAll('.error')) el.textContent = ''
  show('step-choose')
}

function press(group, attr, value) {
  for (const b of $(group).querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset[attr] === String(value)))
}

// ---------------------------------------------------------------- step 1: bays and minutes

$('bays').addEventListener('click', (e) => {
  const b = e.target.closest('[data-bays]')
  if (b) press('bays', 'bays', (choice.bays = Number(b.dataset.bays)))
})
$('minutes').addEventListener('click', (e) => {
  const b = e.target.closest('[data-minutes]')
  if (b) press('minutes', 'minutes', (choice.minutes = Number(b.dataset.minutes)))
})
$('find').addEventListener('click', () => {
  fromS = null
  findOptions()
})

// Ask the hub for many options and offer distinct ones (kiosk-options.js).
async function findOptions(note = '') {
  $('choose-error').textContent = ''
  try {
    const near = fromS === null ? '' : `&near=${fromS}`
    const { options } = await api.get(`/api/availability?bays=${choice.bays}&minutes=${choice.minutes}&limit=50${near}`)
    renderOptions(pickDistinct(options, { fromS }))
    $('options-note').textContent = note
    $('options-note').hidden = !note
    showLater(false)
    show('step-options')
    // The next thing to read is the list: focus its heading, not the top of the page.
    $('options-title').focus()
  } catch (e) {
    $('choose-error').textContent = e.message
    show('step-choose')
  }
}

// ---------------------------------------------------------------- a later start

function showLater(open) {
  $('later-open').setAttribute('aria-expanded', String(open))
  $('later-times').hidden = !open
  if (!open) return
  const times = laterStarts(clock.nowS())
  $('later-times').innerHTML =
    times.map((t) => `<button class="choice" type="button" data-from="${t}" aria-pressed="${t === fromS}">${esc(fmt.time(t))}</button>`).join('') +
    `<button class="choice" type="button" data-from="" aria-pressed="${fromS === null}">As soon as possible</button>`
  $('later-times').querySelector('button')?.focus()
}
$('later-open').addEventListener('click', () => showLater($('later-times').hidden))
$('later-times').addEventListener('click', (e) => {
  const b = e.target.closest('[data-from]')
  if (!b) return
  fromS = b.dataset.from ? Number(b.dataset.from) : null
  findOptions()
})

// ---------------------------------------------------------------- step 2: options

function startsText(o) {
  return o.start_time - clock.nowS() < 60 ? 'Start now' : `Starts ${fmt.time(o.start_time)}`
}

let shownOptions = []
// Pointing at (or focusing) an option marks its bays on the map.
for (const type of ['pointerover', 'focusin']) {
  $('options').addEventListener(type, (e) => {
    const b = e.target.closest?.('[data-option]')
    if (b) renderMap($('map'), { rows: venueRows, options: shownOptions, picked: Number(b.dataset.option) })
  })
}

function renderOptions(options) {
  const later = fromS === null ? '' : ` from ${fmt.time(fromS)}`
  $('options-title').textContent = options.length ? `Pick your ${choice.bays === 1 ? 'bay' : 'bays'}${later}` : 'No free bays'
  $('options').innerHTML = options.length
    ? options
        .map(
          (o, i) =>
            `<button class="option" type="button" data-option="${i}"><span class="letter" aria-hidden="true">${LETTERS[i]}</span>` +
            `<strong>${esc(formatBays(o.machine_id))}</strong>` +
            `<span class="when">${esc(startsText(o))} · until ${esc(fmt.time(o.end_time))}</span>` +
            (o.quote ? `<span class="price">${esc(formatMoney(o.quote))}</span>` : '') +
            `</button>`,
        )
        .join('')
    : `<p>Nothing is free for ${choice.bays} ${choice.bays === 1 ? 'bay' : 'bays'} and ${choice.minutes} minutes${later || ' soon'}. Try fewer bays, a shorter time or a later time.</p>`
  shownOptions = options
  renderMap($('map'), { rows: venueRows, options })
  $('options').onclick = (e) => {
    const b = e.target.closest('[data-option]')
    if (!b) return
    option = options[Number(b.dataset.option)]
    renderConfirm()
    show('step-confirm')
  }
}

// ---------------------------------------------------------------- step 3: confirm and pay

function order() {
  return { bays: choice.bays, minutes: choice.minutes, machine_id: option.machine_id, start_time: option.start_time, end_time: option.end_time }
}

// One Idempotency-Key per booking shown on the confirm step: pressing confirm again after a
// lost reply (network blip) gets the first answer instead of a second booking or a 409.
let bookingKey = null

function renderConfirm() {
  bookingKey = newIdempotencyKey()
  $('summary').innerHTML =
    `<div><strong>${esc(formatBays(option.machine_id))}</strong></div>` +
    `<div>${esc(startsText(option))} · ${choice.minutes} minutes · until ${esc(fmt.time(option.end_time))}</div>`
  $('price').textContent = option.quote ? `Price: ${formatMoney(option.quote)}` : ''
  const priced = option.quote && option.quote.amount > 0
  $('pay-methods').hidden = !priced || providers.length < 2
  $('pay-methods').innerHTML = providers
    .map((p, i) => `<button class="choice" type="button" data-method="${i}" aria-pressed="${p === payment}">${esc(p.name)}</button>`)
    .join('')
  $('pay-note').textContent = priced ? payment.describe(order(), option.quote) : ''
  $('confirm').textContent = priced ? `Book and pay ${formatMoney(option.quote)}` : 'Confirm booking'
}

$('pay-methods').addEventListener('click', (e) => {
  const b = e.target.closest('[data-method]')
  if (!b) return
  payment = providers[Number(b.dataset.method)] ?? payment
  renderConfirm()
})

$('confirm').addEventListener('click', async () => {
  const button = $('confirm')
  button.disabled = true
  $('confirm-error').textContent = ''
  const current = order()
  try {
    const session = await api.post('/api/sessions', {
      machine_id: current.machine_id.length === 1 ? current.machine_id[0] : current.machine_id,
      status: 'reserved',
      // "now" options start at the hub's now; a start in the past by < 1 slot means now (DESIGN §4).
      start_time: current.start_time,
      duration: current.minutes * 60,
    }, { 'idempotency-key': bookingKey })
    // A priced booking is held until the hub records the payment: only then do balls flow.
    if (session.status === 'held') await showPay(session)
    else showDone(session)
  } catch (e) {
    // Taken over another door since the options were shown: back to fresh options, saying why.
    if (e.status === 409) await findOptions('Sorry, those bays were just taken. Please pick again.')
    else $('confirm-error').textContent = e.message
  } finally {
    button.disabled = false
  }
})

// ---------------------------------------------------------------- step 3b: pay (held booking)

async function showPay(session) {
  paying = session
  $('pay-title').textContent = payment.waiting(session)
  $('pay-summary').innerHTML = `<div><strong>${esc(formatBays(session.machine_id))}</strong></div><div>Booking #${session.session_id}</div>`
  $('pay-amount').textContent = session.price ? formatMoney(session.price) : ''
  $('pay-error').textContent = ''
  $('pay-status').textContent = 'Waiting for your payment…'
  $('pay-retry').hidden = true
  show('step-pay')
  // The live feed tells us when it is paid; a slow poll covers a feed that dropped.
  payPoll = setInterval(() => refreshPaying(), 2000)
  tick()
  await askForMoney()
}

async function askForMoney() {
  if (!paying) return
  $('pay-error').textContent = ''
  $('pay-retry').hidden = true
  try {
    const updated = await payment.start(api, paying)
    if (updated) onPaying(updated)
  } catch (e) {
    $('pay-error').textContent = e.message
    $('pay-retry').hidden = false
  }
}

function stopWaiting() {
  clearInterval(payPoll)
  payPoll = null
}

async function refreshPaying() {
  if (!paying) return
  try {
    onPaying(await api.get(`/api/sessions/${paying.session_id}`))
  } catch {
    // the next poll or the live feed will tell
  }
}

/** A change of the held booking: paid -> countdown; declined -> say so; expired -> start again. */
function onPaying(session) {
  if (!paying || session.session_id !== paying.session_id) return
  paying = session
  if (session.status === 'reserved' || session.status === 'active') {
    paying = null
    return showDone(session)
  }
  if (session.status === 'cancelled') {
    $('pay-status').textContent = session.released === 'hold_expired' ? 'Time is up: the bays were released. Nothing was charged.' : 'This booking was cancelled.'
    $('hold-timer').textContent = ''
    $('pay-retry').hidden = true
    $('pay-cancel').textContent = 'Start again'
    paying = null
    stopWaiting()
    return
  }
  const request = session.payment_request
  if (request?.status === 'declined' || request?.status === 'failed') {
    $('pay-status').textContent = request.status === 'declined' ? 'Card declined. Try again, or pay at the counter.' : `The payment did not go through${request.message ? ` (${request.message})` : ''}. Try again, or pay at the counter.`
    $('pay-retry').hidden = false
  } else if (request?.status === 'pending') {
    $('pay-status').textContent = 'Tap your card on the terminal'
  }
}

$('pay-retry').addEventListener('click', () => askForMoney())
$('pay-cancel').addEventListener('click', async () => {
  const held = paying
  paying = null
  $('pay-cancel').textContent = 'Cancel'
  // Release the bays at once rather than when the hold runs out.
  if (held) await api.del(`/api/sessions/${held.session_id}`).catch(() => {})
  reset()
})

// ---------------------------------------------------------------- step 4: bay numbers and countdown

function showDone(session) {
  booked = session
  $('bay-numbers').innerHTML = session.machine_id.map((id) => `<span>${id}</span>`).join('')
  $('done-title').textContent = session.machine_id.length === 1 ? 'Your bay' : 'Your bays'
  $('done-note').textContent = `Booking #${session.session_id}.${session.payments?.length ? ` Paid ${formatMoney({ amount: session.payments.filter((p) => p.kind === 'payment').reduce((a, p) => a + p.amount, 0), currency: session.payments[0].currency })}.` : ''}`
  show('step-done')
  tick()
  clearTimeout(doneTimer)
  doneTimer = setTimeout(reset, DONE_SCREEN_MS)
}

function tick() {
  $('clock').textContent = fmt.time(clock.nowS())
  if (paying?.hold_until) {
    const left = Math.max(0, paying.hold_until - clock.nowS())
    $('hold-timer').textContent = `Your bays are held for ${formatCountdown(left)}`
  }
  if (!booked) return
  const now = clock.nowS()
  if (booked.status === 'cancelled') {
    $('count-label').textContent = 'This booking was cancelled. Please ask at the counter.'
    $('countdown').textContent = ''
  } else if (now < booked.start_time) {
    $('count-label').textContent = `Starts at ${fmt.time(booked.start_time)} — in`
    $('countdown').textContent = formatCountdown(booked.start_time - now)
  } else if (now < booked.end_time) {
    $('count-label').textContent = `Time left · ends at ${fmt.time(booked.end_time)}`
    $('countdown').textContent = formatCountdown(booked.end_time - now)
  } else {
    $('count-label').textContent = 'Session over. Thank you!'
    $('countdown').textContent = '0:00'
  }
}

$('again').addEventListener('click', reset)
for (const b of document.querySelectorAll('[data-back]')) {
  b.addEventListener('click', () => show(b.closest('section').id === 'step-confirm' ? 'step-options' : 'step-choose'))
}

// ---------------------------------------------------------------- start

function onMessage({ topic, payload }) {
  if (topic === 'snapshot') {
    clock.sync(payload.now)
    fmt = createTimeFormat(payload.timezone, payload.venue)
    venueRows = payload.venue?.rows ?? null
  } else if (topic === 'pong') {
    clock.sync(payload.now)
  } else if (topic === 'session.changed' && paying && payload.session.session_id === paying.session_id) {
    onPaying(payload.session)
  } else if (topic === 'session.changed' && booked && payload.session.session_id === booked.session_id) {
    booked = payload.session // extended, moved or cancelled by staff
    $('bay-numbers').innerHTML = booked.machine_id.map((id) => `<span>${id}</span>`).join('')
  }
  tick()
}

async function start() {
  if (!token) return showSetup('')
  try {
    await api.get('/api/me')
  } catch (e) {
    return showSetup(e.status === 401 ? 'The kiosk token was refused.' : e.message)
  }
  try {
    providers = providersFor(await api.get('/api/payment-options'))
    payment = providers[0]
  } catch {
    providers = [payAtCounter]
  }
  press('bays', 'bays', choice.bays)
  press('minutes', 'minutes', choice.minutes)
  reset()
  connectLive({ getToken: () => token, onMessage })
  setInterval(tick, 1000)
}

start()
