/**
 * The one wording of a schema validation error, for both doors (DESIGN §4 "Bad input", §6):
 * MQTT says `machine_id: must be integer`, HTTP says `body.machine_id: must be integer`; only
 * the location prefix differs. The same TypeBox schemas produce the errors on both doors
 * (Fastify runs the TypeBox validator compiler), so one formatter reads them.
 */

/** What TypeBox (and Fastify's `error.validation`) reports per failed check. */
export interface SchemaErrorLike {
  instancePath: string
  keyword: string
  message?: string
  params?: unknown
}

export interface ValidationProblem {
  /** the field as written in messages: `machine_id[1]`, `body.duration`, `(payload)` */
  field: string
  /** `field: problem` */
  message: string
}

const depth = (e: SchemaErrorLike) => e.instancePath.split('/').length

/** "/machine_id/1" -> ".machine_id[1]" */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
}

function paramsOf(e: SchemaErrorLike): Record<string, unknown> {
  return typeof e.params === 'object' && e.params !== null ? (e.params as Record<string, unknown>) : {}
}

function describe(e: SchemaErrorLike): string {
  const allowed = paramsOf(e).allowedValues
  if (e.keyword === 'enum' && Array.isArray(allowed)) return `must be one of ${allowed.join(', ')}`
  return e.message ?? 'is invalid'
}

function firstName(value: unknown): string {
  const name = Array.isArray(value) ? (value[0] as unknown) : value
  return typeof name === 'string' ? name : '?'
}

/**
 * Names the field and the problem. `where` is the location prefix (`body`, `query`); without it
 * the field is named bare, and a problem with the whole value is `(payload)`. For a union the
 * deepest failing branch is the most specific ("machine_id[1]: must be >= 1"); branches failing
 * on the field itself are joined ("must be integer or must be array").
 */
export function formatValidationError(errors: readonly SchemaErrorLike[], where?: string): ValidationProblem {
  const name = (path: string, leaf?: string): string => {
    const full = `${path}${leaf === undefined ? '' : `.${leaf}`}`
    if (where !== undefined) return `${where}${full}`
    return full === '' ? '(payload)' : full.replace(/^\./, '')
  }
  const problem = (field: string, text: string): ValidationProblem => ({ field, message: `${field}: ${text}` })

  const extra = errors.find((e) => e.keyword === 'additionalProperties')
  if (extra) {
    const params = paramsOf(extra)
    return problem(name(fieldPath(extra.instancePath), firstName(params.additionalProperties ?? params.additionalProperty)), 'is not allowed')
  }
  const branches = errors.filter((e) => e.keyword !== 'anyOf')
  const deepest = Math.max(...branches.map(depth))
  const first = branches.find((e) => depth(e) === deepest) ?? errors[0]
  if (!first) return problem(name(''), 'is invalid')
  const path = fieldPath(first.instancePath)
  if (first.keyword === 'required') {
    const params = paramsOf(first)
    return problem(name(path, firstName(params.requiredProperties ?? params.missingProperty)), 'is required')
  }
  const siblings = branches.filter((e) => e.instancePath === first.instancePath)
  return problem(name(path), [...new Set(siblings.map(describe))].join(' or '))
}
