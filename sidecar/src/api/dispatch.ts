import { timingSafeEqual, createHash } from 'node:crypto'
import * as validators from '../gen/validators.js'
import type { Validator } from '../gen/validators.js'
import type { EnvelopeRequestId, MethodName, Methods } from '../gen/protocol-types.ts'
import { METHOD_NAMES } from '../gen/protocol-types.ts'
import { ApiError, toApiError } from './errors.ts'
import { MAX_REQUEST_BYTES, METHOD_TIMEOUT_MS } from './limits.ts'
import { PROTOCOL_VERSION } from '../version.ts'
import type { Logger } from '../log/logger.ts'

/** Per-call context handed to a method. */
export interface CallContext {
  /** Aborted when the method runs past METHOD_TIMEOUT_MS. */
  signal: AbortSignal
}

/** One function per method; params arrive validated, results are validated before they leave. */
export type Handlers = { [M in MethodName]: (params: Methods[M]['params'], ctx: CallContext) => Promise<Methods[M]['result']> }

export type Reply = { v: 1, id: EnvelopeRequestId | null, result: object } | { v: 1, id: EnvelopeRequestId | null, error: ReturnType<ApiError['toJSON']> }

const table = validators as unknown as Record<string, Validator>
const KNOWN = new Set<string>(METHOD_NAMES)

function describe (v: Validator, root: string): { message: string, path: string } {
  const e = v.errors?.[0]
  if (!e) return { message: 'invalid', path: root }
  const path = root + e.instancePath
  if (e.keyword === 'additionalProperties') return { message: `${path || '/'} has unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`, path }
  if (e.keyword === 'required') return { message: `${path || '/'} is missing required property "${(e.params as { missingProperty: string }).missingProperty}"`, path }
  return { message: `${path || '/'} ${e.message ?? 'is invalid'}`, path }
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/**
 * Turns one request payload into one reply: parse, check the envelope, the token, the method and
 * its params, run the handler under a timeout, check the result. Never throws.
 */
export class Dispatcher {
  private readonly tokenDigest: Buffer
  private readonly handlers: Handlers
  private readonly log: Logger

  constructor (token: string, handlers: Handlers, log: Logger) {
    this.tokenDigest = digest(token)
    this.handlers = handlers
    this.log = log
  }

  async dispatch (payload: Uint8Array): Promise<Reply> {
    let id: EnvelopeRequestId | null = null
    try {
      if (payload.byteLength > MAX_REQUEST_BYTES) throw new ApiError('MESSAGE_TOO_LARGE', `request is ${payload.byteLength} bytes; the limit is ${MAX_REQUEST_BYTES}`, { limit: MAX_REQUEST_BYTES })
      let req: unknown
      try {
        req = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
      } catch (err) {
        throw new ApiError('PARSE_ERROR', `request is not valid UTF-8 JSON: ${(err as Error).message}`)
      }
      const r = req as Record<string, unknown>
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new ApiError('INVALID_REQUEST', 'request must be a JSON object')
      if ((typeof r.id === 'string' && r.id.length >= 1 && r.id.length <= 128) || (Number.isSafeInteger(r.id))) id = r.id as EnvelopeRequestId
      if (r.v !== PROTOCOL_VERSION && r.v !== undefined) throw new ApiError('UNSUPPORTED_VERSION', `protocol version ${JSON.stringify(r.v)} is not supported; this sidecar speaks v${PROTOCOL_VERSION}`, { supported: [PROTOCOL_VERSION] })
      // authenticate before anything else is checked, so an outsider learns nothing but UNAUTHORIZED
      if (typeof r.token !== 'string' || !timingSafeEqual(digest(r.token), this.tokenDigest)) {
        throw new ApiError('UNAUTHORIZED', `${typeof r.token === 'string' ? 'wrong' : 'missing'} token: read it from api.json in the state dir`)
      }
      if (!validators.request(r)) {
        const d = describe(validators.request, '')
        throw new ApiError('INVALID_REQUEST', `invalid request envelope: ${d.message}`, { path: d.path })
      }
      const method = r.method as string
      if (!KNOWN.has(method)) throw new ApiError('METHOD_NOT_FOUND', `unknown method "${method}"`, { methods: [...KNOWN] })
      const m = method as MethodName
      const key = m.replace('.', '_')
      const params = (r.params ?? {}) as object
      const pv = table[`params_${key}`]
      if (!pv(params)) {
        const d = describe(pv, '/params')
        throw new ApiError('INVALID_PARAMS', `${m}: ${d.message}`, { path: d.path })
      }
      const handler = this.handlers[m] as (p: object, c: CallContext) => Promise<object>
      // a timer per call, cleared as soon as the method answers (AbortSignal.timeout would hold every
      // request's closure for the full 30 s)
      const ac = new AbortController()
      let timer: NodeJS.Timeout | undefined
      let result: object
      try {
        result = await Promise.race([
          handler(params, { signal: ac.signal }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              ac.abort(new ApiError('TIMEOUT', `${m} did not finish within ${METHOD_TIMEOUT_MS} ms`))
              reject(ac.signal.reason)
            }, METHOD_TIMEOUT_MS)
          })
        ])
      } finally {
        clearTimeout(timer)
      }
      const rv = table[`result_${key}`]
      if (!rv(result)) {
        const d = describe(rv, '/result')
        this.log.error('%s produced a result that breaks its schema: %s', m, d.message)
        throw new ApiError('INTERNAL', `${m} produced an invalid result (${d.message}); this is a sidecar bug`)
      }
      return { v: 1, id, result }
    } catch (err) {
      const e = toApiError(err)
      if (e.code === 'INTERNAL') this.log.error('request %s failed: %s', String(id), err)
      return { v: 1, id, error: e.toJSON() }
    }
  }
}
