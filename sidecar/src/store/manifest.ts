import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { UnsafeManifestError } from './errors.ts'
import { MANIFEST_CHUNK_MAX_BYTES, MANIFEST_MAX_BYTES, MANIFEST_MAX_ENTRIES, PATH_MAX_BYTES } from './constants.ts'

/**
 * An artifact manifest: the tree, canonical JSON (entries sorted by path, keys in a fixed order),
 * whose SHA-256 is the artifact id. Names and times are not part of it, so the same tree published
 * twice is the same artifact. Chunks are [sha256 hex, length].
 */
export type ManifestEntry =
  | { path: string, type: 'file', mode: number, size: number, chunks: Array<[string, number]> }
  | { path: string, type: 'dir', mode: number }
  | { path: string, type: 'symlink', target: string }

export interface Manifest {
  v: 1
  entries: ManifestEntry[]
}

export const HASH = /^[0-9a-f]{64}$/

export function sha256Hex (b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Canonical bytes of a manifest (the id is their SHA-256). */
export function encodeManifest (m: Manifest): Buffer {
  const entries = [...m.entries].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
  const canon = entries.map(e => e.type === 'file'
    ? { path: e.path, type: e.type, mode: e.mode, size: e.size, chunks: e.chunks }
    : e.type === 'dir' ? { path: e.path, type: e.type, mode: e.mode } : { path: e.path, type: e.type, target: e.target })
  return Buffer.from(JSON.stringify({ v: 1, entries: canon }))
}

export function manifestId (bytes: Uint8Array): string {
  return sha256Hex(bytes)
}

/** Total bytes of the files. */
export function manifestSize (m: Manifest): number {
  let n = 0
  for (const e of m.entries) if (e.type === 'file') n += e.size
  return n
}

/** Distinct chunks in first-use order, with their lengths. */
export function uniqueChunks (m: Manifest): Array<[string, number]> {
  const seen = new Set<string>()
  const out: Array<[string, number]> = []
  for (const e of m.entries) {
    if (e.type !== 'file') continue
    for (const c of e.chunks) if (!seen.has(c[0])) { seen.add(c[0]); out.push(c) }
  }
  return out
}

/**
 * Checks that a relative path stays inside its root: POSIX separators, no empty, `.` or `..`
 * segments, no absolute path, no backslash or NUL (a backslash is a separator on Windows).
 */
export function checkRelativePath (p: unknown, what: string): string {
  if (typeof p !== 'string' || p.length === 0 || Buffer.byteLength(p) > PATH_MAX_BYTES) throw new UnsafeManifestError(`${what}: not a valid path`)
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw new UnsafeManifestError(`${what}: absolute path "${p}"`)
  if (/[\\\0]/.test(p)) throw new UnsafeManifestError(`${what}: path "${p}" has a backslash or NUL`)
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new UnsafeManifestError(`${what}: path "${p}" has an empty, "." or ".." segment`)
  }
  return p
}

/** A symlink target must resolve inside the tree (relative, and never climbing above the root). */
export function checkSymlinkTarget (path: string, target: unknown): string {
  if (typeof target !== 'string' || target.length === 0 || Buffer.byteLength(target) > PATH_MAX_BYTES || /[\\\0]/.test(target)) throw new UnsafeManifestError(`symlink ${path}: not a valid target`)
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) throw new UnsafeManifestError(`symlink ${path} points outside the tree (absolute target "${target}")`)
  const resolved = posix.normalize(posix.join(posix.dirname(path), target))
  if (resolved === '..' || resolved.startsWith('../')) throw new UnsafeManifestError(`symlink ${path} points outside the tree ("${target}")`)
  return target
}

const int = (x: unknown, max: number): x is number => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= max

/**
 * Parses and checks a manifest (from the network or the store; never trusted): canonical form (so
 * the id covers exactly what is used), safe paths, no entry below a symlink or a file, every parent
 * a listed directory or implied, chunk lengths adding up to file sizes.
 */
export function parseManifest (bytes: Uint8Array, expectId?: string): { manifest: Manifest, id: string } {
  if (bytes.byteLength > MANIFEST_MAX_BYTES) throw new UnsafeManifestError(`manifest is ${bytes.byteLength} bytes; the limit is ${MANIFEST_MAX_BYTES}`)
  const id = manifestId(bytes)
  if (expectId !== undefined && id !== expectId) throw new UnsafeManifestError(`manifest hashes to ${id}, not ${expectId}`)
  let o: unknown
  try { o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) } catch { throw new UnsafeManifestError('manifest is not UTF-8 JSON') }
  const r = o as { v?: unknown, entries?: unknown }
  if (r === null || typeof r !== 'object' || r.v !== 1 || !Array.isArray(r.entries)) throw new UnsafeManifestError('manifest is not {v: 1, entries: [...]}')
  if (r.entries.length > MANIFEST_MAX_ENTRIES) throw new UnsafeManifestError(`manifest has ${r.entries.length} entries; the limit is ${MANIFEST_MAX_ENTRIES}`)
  const entries: ManifestEntry[] = []
  const kinds = new Map<string, ManifestEntry['type']>()
  for (const [i, x] of (r.entries as Array<Record<string, unknown>>).entries()) {
    if (x === null || typeof x !== 'object') throw new UnsafeManifestError(`entry ${i} is not an object`)
    const path = checkRelativePath(x.path, `entry ${i}`)
    if (kinds.has(path)) throw new UnsafeManifestError(`path "${path}" appears twice`)
    if (x.type === 'file') {
      if (!int(x.mode, 0o7777) || !int(x.size, Number.MAX_SAFE_INTEGER) || !Array.isArray(x.chunks)) throw new UnsafeManifestError(`file ${path}: bad mode, size or chunks`)
      let sum = 0
      const chunks = (x.chunks as unknown[]).map((c) => {
        if (!Array.isArray(c) || c.length !== 2 || typeof c[0] !== 'string' || !HASH.test(c[0]) || !int(c[1], MANIFEST_CHUNK_MAX_BYTES) || c[1] === 0) throw new UnsafeManifestError(`file ${path}: bad chunk`)
        sum += c[1] as number
        return [c[0], c[1]] as [string, number]
      })
      if (sum !== x.size) throw new UnsafeManifestError(`file ${path}: chunks add up to ${sum} bytes, not ${x.size}`)
      entries.push({ path, type: 'file', mode: x.mode as number, size: x.size as number, chunks })
    } else if (x.type === 'dir') {
      if (!int(x.mode, 0o7777)) throw new UnsafeManifestError(`dir ${path}: bad mode`)
      entries.push({ path, type: 'dir', mode: x.mode as number })
    } else if (x.type === 'symlink') {
      entries.push({ path, type: 'symlink', target: checkSymlinkTarget(path, x.target) })
    } else {
      throw new UnsafeManifestError(`entry ${path}: unknown type ${JSON.stringify(x.type)}`)
    }
    kinds.set(path, x.type)
  }
  // nothing may live below a symlink (writing through it could leave the tree) or a file
  for (const e of entries) {
    let p = posix.dirname(e.path)
    while (p !== '.') {
      const k = kinds.get(p)
      if (k === 'symlink' || k === 'file') throw new UnsafeManifestError(`"${e.path}" lies below the ${k} "${p}"`)
      p = posix.dirname(p)
    }
  }
  const manifest: Manifest = { v: 1, entries }
  if (!encodeManifest(manifest).equals(Buffer.from(bytes))) throw new UnsafeManifestError('manifest is not in canonical form')
  return { manifest, id }
}
