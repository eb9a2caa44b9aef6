import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RateLimiter } from './rate-limit.ts'

test('rate limiter: no limit lets everything through at once', async () => {
  const r = new RateLimiter(null)
  await Promise.all(Array.from({ length: 100 }, () => r.take(1 << 20)))
  assert.equal(r.waiting, 0)
})

test('rate limiter: past the one-second burst, bytes pass at the rate, waiters in the order they came', async () => {
  const r = new RateLimiter(1_000_000)
  await r.take(1_000_000) // the burst
  const order: number[] = []
  const t0 = performance.now()
  await Promise.all(Array.from({ length: 8 }, (_, i) => r.take(25_000).then(() => order.push(i))))
  const ms = performance.now() - t0
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7])
  assert.ok(ms >= 190, `200 KB at 1 MB/s passed in ${ms.toFixed(0)} ms`)
  assert.ok(ms < 2000, `200 KB at 1 MB/s took ${ms.toFixed(0)} ms`)
})

test('rate limiter: a take larger than the bucket passes once the bucket is full', async () => {
  const r = new RateLimiter(100_000)
  await r.take(250_000) // a full bucket lets it through, leaving a debt
  const t0 = performance.now()
  await r.take(1_000)
  assert.ok(performance.now() - t0 >= 1400, 'the debt of 150 KB is paid at 100 KB/s before anything else passes')
})

test('rate limiter: an aborted waiter rejects with the reason, and the ones behind it are still served', async () => {
  const r = new RateLimiter(1_000_000)
  await r.take(1_000_000)
  const ac = new AbortController()
  const first = r.take(50_000, ac.signal)
  const second = r.take(50_000)
  ac.abort(new Error('cancelled by the test'))
  await assert.rejects(first, /cancelled by the test/)
  await second
  assert.equal(r.waiting, 0)
  await assert.rejects(r.take(1, ac.signal), /cancelled by the test/, 'an already aborted signal rejects at once')
})

test('rate limiter: lifting the limit releases the waiters; a new rate applies to them', async () => {
  const r = new RateLimiter(1_000)
  await r.take(1_000)
  const waiting = Promise.all([r.take(10_000), r.take(10_000)])
  assert.equal(r.waiting, 2)
  r.bytesPerSec = null
  await waiting
  r.bytesPerSec = 1_000
  const slow = r.take(1_000)
  r.bytesPerSec = 100_000_000
  await slow
  assert.equal(r.waiting, 0)
})
