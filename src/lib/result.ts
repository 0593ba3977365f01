/** Expected outcomes are values, not exceptions (STYLE §2.4). Throw only for bugs and I/O failure. */
export type Ok<T> = { ok: true; value: T }
export type Err<C extends string = string> = { ok: false; code: C; message: string; field?: string }
export type Result<T, C extends string = string> = Ok<T> | Err<C>

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value })
export const err = <C extends string>(code: C, message: string, field?: string): Err<C> =>
  field === undefined ? { ok: false, code, message } : { ok: false, code, message, field }
