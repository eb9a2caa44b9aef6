import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { TransferState } from './transfer.ts'
import { PROGRESS_HEARTBEAT_MS, PROGRESS_INTERVAL_MS, STALLED_AFTER_MS } from './constants.ts'

test('transfer: progress is notified once per PROGRESS_INTERVAL_MS however many chunks come', async () => {
  const seen: number[] = []
  const t = new TransferState('fetch', '/out', null, (x) => seen.push(x.bytesDone))
  for (let i = 1; i <= 50; i++) { t.bytesDone = i; t.progressed() }
  await sleep(PROGRESS_INTERVAL_MS + 100)
  assert.deepEqual(seen, [50])
  t.finish('done')
})

test('transfer: a running transfer with nothing moving still notifies, with rate 0 and no ETA once stalled', async () => {
  const seen: Array<{ at: number, rate: number, eta: number | null }> = []
  const started = Date.now()
  const t = new TransferState('fetch', '/out', null, (x) => { const j = x.toJSON(); seen.push({ at: Date.now() - started, rate: j.rateBytesPerSec, eta: j.etaMs }) })
  t.bytesTotal = 100e6
  // 1 MB every 50 ms for 0.5 s (20 MB/s), then nothing
  for (let i = 1; i <= 10; i++) {
    await sleep(50)
    t.bytesFromPeers += 1e6
    t.bytesDone += 1e6
    t.progressed()
  }
  const moving = t.toJSON()
  assert.ok(moving.rateBytesPerSec > 1e6, `rate while moving ${moving.rateBytesPerSec}`)
  assert.ok(moving.etaMs !== null && moving.etaMs > 0)
  const stoppedAt = Date.now() - started
  await sleep(STALLED_AFTER_MS + 2 * PROGRESS_HEARTBEAT_MS)
  const during = seen.filter(s => s.at > stoppedAt + PROGRESS_INTERVAL_MS + 50)
  assert.ok(during.length >= 2, `notifications while stalled: ${JSON.stringify(seen)}`)
  const last = during.at(-1)!
  assert.equal(last.rate, 0, JSON.stringify(seen))
  assert.equal(last.eta, null)
  t.finish('done')
  const n = seen.length
  await sleep(PROGRESS_HEARTBEAT_MS + 300)
  assert.equal(seen.length, n, 'a finished transfer sends no more progress')
})
