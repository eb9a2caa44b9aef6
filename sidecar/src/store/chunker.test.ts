import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chunkLengths, cutPoint, DEFAULT_SIZES } from './chunker.ts'

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function prng (n: number, seed = 'seed'): Buffer {
  const out = Buffer.allocUnsafe(n)
  for (let i = 0, c = 0; i < n; c++) {
    const d = createHash('sha256').update(`${seed}/${c}`).digest()
    i += d.copy(out, i)
  }
  return out
}

function hashes (buf: Buffer): string[] {
  let at = 0
  return chunkLengths(buf).map(l => { const h = createHash('sha256').update(buf.subarray(at, at + l)).digest('hex'); at += l; return h })
}

test('chunk sizes stay within min/max and the average is near the target', () => {
  const buf = prng(24 * 1024 * 1024)
  const lens = chunkLengths(buf)
  assert.equal(lens.reduce((a, b) => a + b, 0), buf.length)
  for (const l of lens.slice(0, -1)) assert.ok(l >= DEFAULT_SIZES.min && l <= DEFAULT_SIZES.max, `chunk of ${l}`)
  const avg = buf.length / lens.length
  assert.ok(avg > DEFAULT_SIZES.avg * 0.7 && avg < DEFAULT_SIZES.avg * 1.6, `average ${avg}`)
})

test('boundaries are stable under an insertion and a deletion: only nearby chunks change', () => {
  const base = prng(16 * 1024 * 1024, 'stable')
  const a = hashes(base)
  const inserted = Buffer.concat([base.subarray(0, 5_000_000), Buffer.from('a few inserted bytes'), base.subarray(5_000_000)])
  const deleted = Buffer.concat([base.subarray(0, 11_000_000), base.subarray(11_000_100)])
  for (const [what, buf] of [['insert', inserted], ['delete', deleted]] as const) {
    const b = new Set(hashes(buf))
    const shared = a.filter(h => b.has(h)).length
    assert.ok(shared >= a.length - 3, `${what}: ${shared} of ${a.length} chunks shared`)
  }
  // a prefix shift moves every boundary by the same amount
  const shifted = new Set(hashes(Buffer.concat([Buffer.alloc(1000, 7), base])))
  assert.ok(a.filter(h => shifted.has(h)).length >= a.length - 2)
})

test('a streaming cut needs more data unless final; the same cuts either way', () => {
  const buf = prng(3 * 1024 * 1024, 'stream')
  assert.equal(cutPoint(buf, 0, 1000, false), 0)
  assert.equal(cutPoint(buf, 0, 1000, true), 1000)
  const whole = chunkLengths(buf)
  assert.equal(cutPoint(buf, 0, buf.length, false), whole[0])
  assert.equal(cutPoint(Buffer.alloc(0), 0, 0, true), 0)
  // all-zero input has no content boundaries: max-size chunks
  assert.deepEqual(chunkLengths(Buffer.alloc(DEFAULT_SIZES.max * 2 + 5)), [DEFAULT_SIZES.max, DEFAULT_SIZES.max, 5])
})
