import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Backoff } from './backoff.ts'

test('delays double up to the cap, then it gives up', () => {
  const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 500, maxAttempts: 5 })
  assert.deepEqual([b.next(0), b.next(0), b.next(0), b.next(0), b.next(0)], [100, 200, 400, 500, 500])
  assert.equal(b.next(0), undefined)
  assert.equal(b.attempts, 5)
})

test('a healthy run resets the streak; a short one does not', () => {
  const b = new Backoff({ initialMs: 100, healthyAfterMs: 1000 })
  b.next(0); b.next(0)
  b.started(10)
  assert.equal(b.next(500), 400) // ran 490 ms: still the same streak
  b.started(600)
  assert.equal(b.next(2000), 100) // ran 1400 ms: healthy
})

test('reset() forgets the streak', () => {
  const b = new Backoff({ initialMs: 100, maxAttempts: 1 })
  assert.equal(b.next(0), 100)
  assert.equal(b.next(0), undefined)
  b.reset()
  assert.equal(b.next(0), 100)
})
