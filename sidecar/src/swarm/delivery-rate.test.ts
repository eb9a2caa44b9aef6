import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DeliveryRate } from './delivery-rate.ts'
import { RATE_SPAN_MS, STALLED_AFTER_MS } from './constants.ts'

const CHUNK = 128 * 1024

test('delivery rate: chunks arriving in bursts at 12.5 MB/s read as 12.5 MB/s', () => {
  const r = new DeliveryRate()
  r.start(0)
  // four chunks at once every 4 x 10.49 ms (what an event loop batching reads delivers), for 2 s
  const every = 4 * CHUNK / 12.5e6 * 1000
  for (let t = every; t <= 2000; t += every) for (let k = 0; k < 4; k++) r.add(CHUNK, t)
  assert.ok(Math.abs(r.bytesPerSec / 12.5e6 - 1) < 0.05, `measured ${r.bytesPerSec}`)
})

test('delivery rate: time with nothing asked of the peer does not lower it', () => {
  const r = new DeliveryRate()
  for (let burst = 0; burst < 4; burst++) {
    const t0 = burst * 5000 // busy 1 s, then idle 4 s
    r.start(t0)
    for (let t = t0 + 10; t <= t0 + 1000; t += 10) r.add(100_000, t) // 10 MB/s
    r.stop(t0 + 1000)
  }
  assert.ok(Math.abs(r.bytesPerSec / 10e6 - 1) < 0.02, `measured ${r.bytesPerSec}`)
})

test('delivery rate: a short busy span counts only while nothing else was measured', () => {
  const r = new DeliveryRate()
  assert.equal(r.bytesPerSec, 0)
  r.start(0)
  r.add(CHUNK, 50)
  r.stop(50) // one chunk in 50 ms, shorter than a span
  assert.ok(Math.abs(r.bytesPerSec - CHUNK * 1000 / 50) < 1)
  r.start(1000)
  for (let t = 1010; t <= 1000 + 2 * RATE_SPAN_MS; t += 10) r.add(20_000, t) // 2 MB/s over full spans
  r.stop(1000 + 2 * RATE_SPAN_MS)
  const measured = r.bytesPerSec
  r.start(5000)
  r.add(CHUNK, 5001)
  r.stop(5001) // a burst that looks like 131 MB/s over 1 ms: ignored now
  assert.equal(r.bytesPerSec, measured)
  assert.ok(measured < 2.7e6, `measured ${measured}`)
})

test('delivery rate: adds without a busy span are ignored', () => {
  const r = new DeliveryRate()
  r.add(CHUNK, 10)
  r.stop(20)
  assert.equal(r.bytesPerSec, 0)
})

test('delivery rate: lastAt is when the busy span began, then each delivery in it', () => {
  const r = new DeliveryRate()
  r.start(100)
  assert.equal(r.lastAt, 100)
  r.add(CHUNK, 130)
  r.add(CHUNK, 170)
  assert.equal(r.lastAt, 170)
  r.start(180) // the span is still open: nothing changes
  assert.equal(r.lastAt, 170)
})

test('delivery rate: the shown rate is 0 while asked and silent for STALLED_AFTER_MS, the measured one stays', () => {
  const r = new DeliveryRate()
  r.start(0)
  for (let t = 10; t <= 1000; t += 10) r.add(100_000, t) // 10 MB/s for 1 s, then silence with requests in flight
  const measured = r.bytesPerSec
  assert.ok(measured > 9e6)
  assert.equal(r.shownAt(1000 + STALLED_AFTER_MS - 1), measured)
  assert.equal(r.shownAt(1000 + STALLED_AFTER_MS), 0)
  assert.equal(r.bytesPerSec, measured) // what the scheduler uses is unchanged
  r.add(100_000, 1000 + STALLED_AFTER_MS + 5) // it answers again
  assert.equal(r.shownAt(1000 + STALLED_AFTER_MS + 5), r.bytesPerSec)
  r.stop(1000 + STALLED_AFTER_MS + 5) // nothing asked of it: its measured rate shows, however long ago that was
  assert.equal(r.shownAt(60_000), r.bytesPerSec)
})
