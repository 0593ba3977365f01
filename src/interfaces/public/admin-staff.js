// Staff dialog of the admin page (managers): list, add, change role, reset password, sign out, remove.
import { esc } from './api.js'

const ROLES = ['manager', 'staff', 'viewer']

export function createStaffDialog({ api, toast, me }) {
  const dlg = document.getElementById('dlg-staff')
  const form = dlg.querySelector('form')
  const rows = document.getElementById('staff-rows')
  const error = dlg.querySelector('.error')

  async function load() {
    const users = await api.get('/api/staff')
    rows.innerHTML = users
      .map((u) => {
        const options = ROLES.map((r) => `<option${r === u.role ? ' selected' : ''}>${r}</option>`).join('')
        const self = u.username === me()?.user ? ' <small>(you)</small>' : ''
        return (
          `<tr data-user="${esc(u.username)}"><td>${esc(u.username)}${self}</td>` +
          `<td><select data-act="role" aria-label="Role of ${esc(u.username)}">${options}</select></td>` +
          `<td class="actions"><button type="button" data-act="password">New password</button>` +
          `<button type="button" data-act="sign-out">Sign out</button>` +
          `<button type="button" class="danger" data-act="remove">Remove</button></td></tr>`
        )
      })
      .join('')
  }

  async function act(fn, done) {
    error.textContent = ''
    try {
      await fn()
      if (done) toast(done)
      await load()
    } catch (e) {
      error.textContent = e.message
    }
  }

  rows.addEventListener('change', (event) => {
    const select = event.target.closest('select[data-act=role]')
    const name = select?.closest('tr')?.dataset.user
    if (name) act(() => api.patch(`/api/staff/${encodeURIComponent(name)}`, { role: select.value }), `${name} is now ${select.value}`)
  })
  rows.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-act]')
    const name = button?.closest('tr')?.dataset.user
    if (!name) return
    const path = `/api/staff/${encodeURIComponent(name)}`
    if (button.dataset.act === 'password') {
      const password = prompt(`New password for ${name} (at least 8 characters)`)
      if (password) act(() => api.patch(path, { password }), `New password set for ${name}`)
    } else if (button.dataset.act === 'sign-out') {
      act(() => api.post(`${path}/sign-out`), `${name} is signed out everywhere`)
    } else if (button.dataset.act === 'remove' && confirm(`Remove ${name}?`)) {
      act(() => api.del(path), `${name} removed`)
    }
  })
  form.addEventListener('submit', (event) => {
    if (event.submitter?.value !== 'add') return
    event.preventDefault()
    const data = new FormData(form)
    const body = { username: String(data.get('username')).trim(), role: String(data.get('role')), password: String(data.get('password')) }
    act(async () => {
      await api.post('/api/staff', body)
      form.username.value = ''
      form.password.value = ''
    }, `${body.username} added`)
  })

  return {
    async open() {
      error.textContent = ''
      try {
        await load()
      } catch (e) {
        return toast(e.message, true)
      }
      dlg.showModal()
    },
  }
}
