import { createHash } from 'node:crypto'
import { CHUNK_AVG_BYTES, CHUNK_MAX_BYTES, CHUNK_MIN_BYTES } from './constants.ts'

/**
 * FastCDC (Xia et al., "The Design of Fast Content-Defined Chunking for Data Deduplication Based
 * Storage Systems", 2020): a gear hash rolled byte by byte, cut where the hash has zeros under a
 * mask; a stricter mask before the average size and a looser one after it (normalized chunking)
 * narrows the size distribution. Nothing before `min` is hashed (the hash only depends on the last
 * 32 bytes anyway, since every step shifts left by one in a 32-bit word), which is what keeps cut
 * points stable under insertions and deletions elsewhere in the file.
 */

/** 256 fixed pseudo-random 32-bit values, derived from SHA-256 so the table is reproducible. */
export const GEAR: Uint32Array = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i += 8) {
    const d = createHash('sha256').update(`meshlink/gear/v1/${i}`).digest()
    for (let j = 0; j < 8; j++) t[i + j] = d.readUInt32BE(j * 4)
  }
  return t
})()

/** A mask of `bits` one-bits at the top of a 32-bit word (the bits that mix the most input bytes), as a signed int32 so V8 keeps the loop in small integers. */
function topBits (bits: number): number {
  return (0xffffffff << (32 - bits)) | 0
}

export interface ChunkSizes {
  min: number
  avg: number
  max: number
}

export const DEFAULT_SIZES: ChunkSizes = { min: CHUNK_MIN_BYTES, avg: CHUNK_AVG_BYTES, max: CHUNK_MAX_BYTES }

export function masksFor (avg: number): { strict: number, loose: number } {
  const bits = Math.round(Math.log2(avg))
  return { strict: topBits(bits + 2), loose: topBits(bits - 2) }
}

const DEFAULT_MASKS = masksFor(DEFAULT_SIZES.avg)

/**
 * Length of the chunk that starts at `start` in `buf[start, end)`. When fewer than `max` bytes are
 * available and `final` is false, returns 0 unless a cut was found (the caller reads more first).
 */
export function cutPoint (buf: Uint8Array, start: number, end: number, final: boolean, sizes: ChunkSizes = DEFAULT_SIZES): number {
  const n = end - start
  if (n <= sizes.min) return final ? n : 0
  const { strict, loose } = sizes === DEFAULT_SIZES ? DEFAULT_MASKS : masksFor(sizes.avg)
  const limit = start + Math.min(n, sizes.max)
  const normal = start + Math.min(n, sizes.avg)
  const g = GEAR
  let h = 0
  let i = start + sizes.min
  for (; i < normal; i++) {
    h = ((h << 1) + g[buf[i]]) | 0
    if ((h & strict) === 0) return i + 1 - start
  }
  for (; i < limit; i++) {
    h = ((h << 1) + g[buf[i]]) | 0
    if ((h & loose) === 0) return i + 1 - start
  }
  if (n >= sizes.max || final) return limit - start
  return 0
}

/** Splits a whole buffer into chunk lengths (for tests and small inputs). */
export function chunkLengths (buf: Uint8Array, sizes: ChunkSizes = DEFAULT_SIZES): number[] {
  const out: number[] = []
  let at = 0
  while (at < buf.length) {
    const len = cutPoint(buf, at, buf.length, true, sizes)
    out.push(len)
    at += len
  }
  return out
}
