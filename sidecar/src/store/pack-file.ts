import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The on-disk format of the chunk store: append-only pack files of chunk bytes (`packs/<seq>.pack`),
 * each with an index (`packs/<seq>.idx`) of fixed-size records saying where a chunk was added or that
 * it was dropped. A record is appended only after the bytes it points to were written, so a crashed
 * process leaves at worst unindexed bytes at the end of a pack (dead space) and a torn last record
 * (cut off when the index is loaded).
 *
 * A linked pack (`packs/<seq>.link`, with its `<seq>.idx`) is a hard link to a file a fetch wrote in an
 * output tree: its records say where in that file the fetch wrote each chunk, so the chunk is on disk
 * once, not also copied into a pack. The store never writes it; the user may change or replace the file
 * (see chunk-store.ts for how that is noticed).
 *
 * Record (48 bytes): SHA-256 (32) | offset u64 LE (8) | size u32 LE (4) | kind u8 (1 add, 2 drop) |
 * 3 zero bytes.
 */
export const RECORD_BYTES = 48
export const ADD = 1
export const DROP = 2

export interface PackRecord {
  kind: typeof ADD | typeof DROP
  hash: string
  offset: number
  size: number
}

export const packPaths = (dir: string, seq: number): { data: string, link: string, idx: string } => {
  const base = join(dir, String(seq).padStart(8, '0'))
  return { data: `${base}.pack`, link: `${base}.link`, idx: `${base}.idx` }
}

/** Sequence numbers of the packs in `dir` (from any of their files), ascending. */
export function listPacks (dir: string): number[] {
  const seqs = new Set<number>()
  for (const name of readdirSync(dir)) {
    const m = /^(\d{8})\.(pack|link|idx)$/.exec(name)
    if (m) seqs.add(Number(m[1]))
  }
  return [...seqs].sort((a, b) => a - b)
}

export function encodeRecords (records: readonly PackRecord[]): Buffer {
  const b = Buffer.alloc(records.length * RECORD_BYTES)
  records.forEach((r, i) => {
    const at = i * RECORD_BYTES
    b.write(r.hash, at, 32, 'hex')
    b.writeBigUInt64LE(BigInt(r.offset), at + 32)
    b.writeUInt32LE(r.size, at + 40)
    b[at + 44] = r.kind
  })
  return b
}

/**
 * Records of an index file, up to the first one that is not well formed (a torn or zeroed tail after a
 * crash or a power loss). `validBytes`: where the good records end.
 */
export function decodeRecords (b: Buffer): { records: PackRecord[], validBytes: number } {
  const records: PackRecord[] = []
  let at = 0
  for (; at + RECORD_BYTES <= b.byteLength; at += RECORD_BYTES) {
    const kind = b[at + 44]
    if ((kind !== ADD && kind !== DROP) || b[at + 45] !== 0 || b[at + 46] !== 0 || b[at + 47] !== 0) break
    const offset = b.readBigUInt64LE(at + 32)
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) break
    records.push({ kind, hash: b.toString('hex', at, at + 32), offset: Number(offset), size: b.readUInt32LE(at + 40) })
  }
  return { records, validBytes: at }
}
