/** JSON over HTTP for the cloud link; a non-2xx answer is an error (and so a retry). */
export async function postJson(url: string, body: unknown, token: string | null, timeoutMs = 15_000): Promise<unknown> {
  return requestJson(url, { method: 'POST', body: JSON.stringify(body) }, token, timeoutMs)
}

export async function getJson(url: string, token: string | null, timeoutMs = 15_000): Promise<unknown> {
  return requestJson(url, { method: 'GET' }, token, timeoutMs)
}

async function requestJson(url: string, init: RequestInit, token: string | null, timeoutMs: number): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (init.body) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) })
  const text = await res.text()
  if (!res.ok) throw new Error(`${init.method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`)
  return text ? (JSON.parse(text) as unknown) : null
}
