import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { streamPair } from '@libp2p/utils'
import { decodeLengthPrefix, framedStream } from './framed-stream.ts'

/** What the decoder sees: the prefix bytes read so far, one buffer per byte as lpStream appends them. */
const bytesSoFar = (bytes: number[]): Parameters<typeof decodeLengthPrefix>[0] =>
  ({ byteLength: bytes.length, get: (i: number) => bytes[i] }) as unknown as Parameters<typeof decodeLengthPrefix>[0]

test('frames of every prefix length (1 to 3 bytes, empty to 1 MiB) come through a real lpStream pair intact and in order', async () => {
  const [a, b] = await streamPair()
  const sizes = [0, 1, 127, 128, 16383, 16384, 200_000, 1024 * 1024]
  const frames = sizes.map(n => randomBytes(n))
  const out = framedStream(a, { maxDataLength: 2 * 1024 * 1024 })
  const inn = framedStream(b, { maxDataLength: 2 * 1024 * 1024 })
  const writing = (async () => { for (const f of frames) await out.write(f) })()
  for (const f of frames) assert.ok(Buffer.from((await inn.read()).subarray()).equals(f))
  await writing
})

test('an unfinished prefix throws one shared RangeError (lpStream reads on), a prefix past 8 bytes is an error', () => {
  assert.equal(decodeLengthPrefix(bytesSoFar([0x05])), 5)
  assert.equal(decodeLengthPrefix(bytesSoFar([0x80, 0x80, 0x40])), 0x40 << 14)
  assert.equal(decodeLengthPrefix(bytesSoFar([0xff, 0xff, 0xff, 0xff, 0x7f])), 2 ** 35 - 1) // past 32 bits: no sign trouble
  let first: unknown
  try { decodeLengthPrefix(bytesSoFar([0x80])) } catch (err) { first = err }
  assert.ok(first instanceof RangeError)
  assert.throws(() => decodeLengthPrefix(bytesSoFar([0x80, 0x81])), (err) => err === first)
  assert.throws(() => decodeLengthPrefix(bytesSoFar(new Array(9).fill(0x80))), (err: Error) => !(err instanceof RangeError) && /longer than 8 bytes/.test(err.message))
})
