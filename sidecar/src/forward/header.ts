/** What a guest asks for when it opens a forward stream. */
export interface ForwardRequest {
  v: 1
  service: string
}

/** Why a host refused a stream. */
export type RefusalCode = 'FORBIDDEN' | 'NOT_FOUND' | 'TARGET_UNREACHABLE' | 'PROTOCOL_ERROR'

export type ForwardReply = { v: 1, ok: true } | { v: 1, ok: false, code: RefusalCode, message: string }

export class BadForwardHeaderError extends Error {
  readonly name = 'BadForwardHeaderError'
}

const REFUSALS = new Set<string>(['FORBIDDEN', 'NOT_FOUND', 'TARGET_UNREACHABLE', 'PROTOCOL_ERROR'])

function parseObject (bytes: Uint8Array, what: string): Record<string, unknown> {
  let o: unknown
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new BadForwardHeaderError(`${what} is not UTF-8 JSON`)
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new BadForwardHeaderError(`${what} is not an object`)
  const r = o as Record<string, unknown>
  if (r.v !== 1) throw new BadForwardHeaderError(`${what} version ${JSON.stringify(r.v)} is not supported`)
  return r
}

export function parseForwardRequest (bytes: Uint8Array): ForwardRequest {
  const r = parseObject(bytes, 'forward request')
  if (typeof r.service !== 'string' || r.service.length < 1 || r.service.length > 63) throw new BadForwardHeaderError('forward request names no valid service')
  return { v: 1, service: r.service }
}

export function parseForwardReply (bytes: Uint8Array): ForwardReply {
  const r = parseObject(bytes, 'forward reply')
  if (r.ok === true) return { v: 1, ok: true }
  if (r.ok !== false || typeof r.code !== 'string' || !REFUSALS.has(r.code)) throw new BadForwardHeaderError('forward reply is neither ok nor a known refusal')
  return { v: 1, ok: false, code: r.code as RefusalCode, message: typeof r.message === 'string' ? r.message.slice(0, 500) : r.code }
}

export const encodeJson = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o))
