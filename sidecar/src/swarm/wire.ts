import { HASH } from '../store/manifest.ts'
import { TAG } from '../store/artifact-store.ts'
import { MAX_ANNOUNCED_ARTIFACTS } from './constants.ts'

/** A malformed message from a member; never trusted. */
export class BadSwarmMessageError extends Error {
  readonly name = 'BadSwarmMessageError'
}

export interface AnnouncedArtifact {
  id: string
  tag: string | null
  size: number
  files: number
  createdAt: string
  /** false: the member is still fetching it (it serves what it has). */
  complete: boolean
}

export type ChunkRequest =
  | { v: 1, op: 'manifest', id: string }
  | { v: 1, op: 'have', id: string }
  | { v: 1, op: 'get', hash: string }

export type ChunkReply =
  | { v: 1, ok: true, size?: number, all?: boolean, bits?: string }
  | { v: 1, ok: false, code: 'NOT_FOUND' | 'BUSY' | 'PROTOCOL_ERROR', message: string }

export const encodeJson = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o))

function parseObject (bytes: Uint8Array, what: string): Record<string, unknown> {
  let o: unknown
  try { o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) } catch { throw new BadSwarmMessageError(`${what} is not UTF-8 JSON`) }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new BadSwarmMessageError(`${what} is not an object`)
  const r = o as Record<string, unknown>
  if (r.v !== 1) throw new BadSwarmMessageError(`${what} version ${JSON.stringify(r.v)} is not supported`)
  return r
}

const count = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0

export function parseAnnouncement (bytes: Uint8Array): AnnouncedArtifact[] {
  const r = parseObject(bytes, 'artifacts announcement')
  if (!Array.isArray(r.artifacts) || r.artifacts.length > MAX_ANNOUNCED_ARTIFACTS) throw new BadSwarmMessageError('announcement has no valid artifacts list')
  return (r.artifacts as Array<Record<string, unknown>>).map((a, i) => {
    if (a === null || typeof a !== 'object' || typeof a.id !== 'string' || !HASH.test(a.id)) throw new BadSwarmMessageError(`artifact ${i} has no valid id`)
    if (!(a.tag === null || (typeof a.tag === 'string' && TAG.test(a.tag)))) throw new BadSwarmMessageError(`artifact ${a.id}: bad tag`)
    if (!count(a.size) || !count(a.files) || typeof a.complete !== 'boolean') throw new BadSwarmMessageError(`artifact ${a.id}: bad size, files or complete`)
    if (typeof a.createdAt !== 'string' || Number.isNaN(Date.parse(a.createdAt))) throw new BadSwarmMessageError(`artifact ${a.id}: bad createdAt`)
    return { id: a.id, tag: a.tag as string | null, size: a.size as number, files: a.files as number, createdAt: new Date(a.createdAt).toISOString(), complete: a.complete }
  })
}

export function parseChunkRequest (bytes: Uint8Array): ChunkRequest {
  const r = parseObject(bytes, 'chunk request')
  if ((r.op === 'manifest' || r.op === 'have') && typeof r.id === 'string' && HASH.test(r.id)) return { v: 1, op: r.op, id: r.id }
  if (r.op === 'get' && typeof r.hash === 'string' && HASH.test(r.hash)) return { v: 1, op: 'get', hash: r.hash }
  throw new BadSwarmMessageError('chunk request is not manifest/have/get with a valid hash')
}

export function parseChunkReply (bytes: Uint8Array): ChunkReply {
  const r = parseObject(bytes, 'chunk reply')
  if (r.ok === true) {
    if (r.size !== undefined && !count(r.size)) throw new BadSwarmMessageError('chunk reply has a bad size')
    if (r.bits !== undefined && typeof r.bits !== 'string') throw new BadSwarmMessageError('chunk reply has bad bits')
    return { v: 1, ok: true, size: r.size as number | undefined, all: r.all === true, bits: r.bits as string | undefined }
  }
  if (r.ok === false && (r.code === 'NOT_FOUND' || r.code === 'BUSY' || r.code === 'PROTOCOL_ERROR')) return { v: 1, ok: false, code: r.code, message: typeof r.message === 'string' ? r.message.slice(0, 500) : r.code }
  throw new BadSwarmMessageError('chunk reply is neither ok nor a known refusal')
}

/** A bitfield over a manifest's distinct chunks (first-use order), base64. */
export function encodeBits (have: boolean[]): string {
  const b = Buffer.alloc(Math.ceil(have.length / 8))
  have.forEach((h, i) => { if (h) b[i >> 3] |= 1 << (i & 7) })
  return b.toString('base64')
}

export function decodeBits (bits: string, n: number): boolean[] {
  const b = Buffer.from(bits, 'base64')
  return Array.from({ length: n }, (_, i) => (b[i >> 3] & (1 << (i & 7))) !== 0)
}
