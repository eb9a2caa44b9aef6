// A holder that stops answering without closing its connection (a frozen process, a suspended laptop,
// a link that went down without a reset): its chunks in flight must move to the other holders as soon
// as it is clearly late, not after the request timeout or the connection monitor's failed pings.
// Real sidecar processes; the stall is a real SIGSTOP of A's process (its kernel keeps the TCP
// connection up and acknowledges what C sends, as a frozen machine's NIC would not, but nothing answers).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSidecar, waitFor, removeStateDir, transferEnded, collectEvents, type SidecarProcess } from '../helpers/sidecar-process.ts'
import { treeDigest } from '../helpers/tree-digest.ts'
import { PROGRESS_HEARTBEAT_MS, REQUEST_TIMEOUT_MS, STALLED_AFTER_MS } from '../../sidecar/src/swarm/constants.ts'
import type { Transfer } from '../../sidecar/src/gen/protocol-types.ts'

let a: SidecarProcess, b: SidecarProcess, c: SidecarProcess
const work = mkdtempSync(join(tmpdir(), 'ml-stall-'))
const src = join(work, 'src')

before(async () => {
  mkdirSync(join(src, 'lib'), { recursive: true })
  writeFileSync(join(src, 'lib/big.bin'), randomBytes(24 * 1024 * 1024))
  for (let i = 0; i < 8; i++) writeFileSync(join(src, `f${i}.js`), randomBytes(50_000))
  a = await startSidecar({ name: 'alice' })
  b = await startSidecar({ name: 'bob' })
  c = await startSidecar({ name: 'carol' })
  const code = (await a.client.call('mesh.invite')).code
  for (const s of [b, c]) assert.equal((await s.client.call('mesh.join', { code })).connected, true)
  await waitFor(async () => (await a.client.call('peers.list')).peers.filter(p => p.connected && p.name).length === 2, 'alice to know the others')
})

after(async () => {
  for (const s of [a, b].filter(Boolean)) s.proc.kill('SIGCONT')
  for (const s of [a, b, c].filter(Boolean)) { await s.stop(); removeStateDir(s.stateDir) }
  rmSync(work, { recursive: true, force: true })
})

test('a holder that stalls mid-fetch: its chunks move to the other holder well before any timeout', { timeout: 90_000 }, async () => {
  const pt = await transferEnded(a, (await a.client.call('artifacts.publish', { path: src, tag: 'stall@x' })).transfer.id)
  assert.equal(pt.state, 'done', JSON.stringify(pt.error))
  const id = pt.artifact!
  await waitFor(async () => (await b.client.call('artifacts.list')).artifacts.some(x => x.id === id), 'bob to see the artifact')
  const bt = await transferEnded(b, (await b.client.call('artifacts.fetch', { artifact: id, out: join(work, 'b-out') })).transfer.id)
  assert.equal(bt.state, 'done', JSON.stringify(bt.error))
  await waitFor(async () => ((await c.client.call('artifacts.list')).artifacts.find(x => x.id === id)?.holders.length ?? 0) >= 2, 'carol to see both holders')

  // capped, so that the fetch is still running when alice stops
  const out = join(work, 'c-out')
  const { transfer: t0 } = await c.client.call('artifacts.fetch', { artifact: id, out, maxBytesPerSec: 6 * 1024 * 1024 })
  const mid = await waitFor(async () => {
    const t = (await c.client.call('transfers.list')).transfers.find(x => x.id === t0.id)!
    if (t.state !== 'running') return t
    const alice = t.peers.find(p => p.name === 'alice')
    return t.bytesDone > t.bytesTotal * 0.25 && alice !== undefined && alice.rateBytesPerSec > 0 && alice.inFlight > 0 ? t : undefined
  }, 'carol a quarter of the way, with chunks in flight at alice and her rate measured', 30_000, 20)
  assert.equal(mid.state, 'running')
  a.proc.kill('SIGSTOP')
  const stoppedAt = Date.now()
  const t = await transferEnded(c, t0.id)
  const afterStop = Date.now() - stoppedAt
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.deepEqual(treeDigest(out), treeDigest(src))
  const alice = t.peers.find(p => p.name === 'alice')
  // a failed alice would mean the fetch waited for a timeout or the connection's end to give up on her
  assert.notEqual(alice?.state, 'failed', `alice: ${JSON.stringify(alice)}`)
  assert.ok(afterStop < REQUEST_TIMEOUT_MS / 3, `the fetch took ${afterStop} ms after alice stalled`)
  assert.ok(t.peers.find(p => p.name === 'bob' && p.bytes > 0))
})

test('the only holder stalls: progress events keep coming and show the fetch as stalled, then it completes when the holder is back', { timeout: 90_000 }, async () => {
  const src2 = join(work, 'src2')
  mkdirSync(src2)
  writeFileSync(join(src2, 'only-bob.bin'), randomBytes(16 * 1024 * 1024))
  const pt = await transferEnded(b, (await b.client.call('artifacts.publish', { path: src2, tag: 'stall@bob' })).transfer.id)
  assert.equal(pt.state, 'done', JSON.stringify(pt.error))
  const id = pt.artifact!
  await waitFor(async () => ((await c.client.call('artifacts.list')).artifacts.find(x => x.id === id)?.holders.length ?? 0) >= 1, 'carol to see bob hold it')

  const events = collectEvents(c.info, ['transfer.'])
  try {
    const out = join(work, 'c-out2')
    const { transfer: t0 } = await c.client.call('artifacts.fetch', { artifact: id, out, maxBytesPerSec: 4 * 1024 * 1024 })
    const progressOf = (): Transfer[] => events.events.filter(e => e.event === 'transfer.progress').map(e => (e.data as { transfer: Transfer }).transfer).filter(t => t.id === t0.id)
    await waitFor(() => progressOf().some(t => t.bytesDone > t.bytesTotal * 0.25 && t.rateBytesPerSec > 0 && (t.peers.find(p => p.name === 'bob')?.inFlight ?? 0) > 0), 'carol a quarter of the way, moving, with chunks in flight at bob', 30_000, 20)
    b.proc.kill('SIGSTOP')
    const stoppedAt = Date.now()
    const seenBefore = progressOf().length
    // a view that follows events learns of the stall without polling: rate 0, no ETA, bob's rate 0
    const stalled = await waitFor(() => progressOf().slice(seenBefore).find(t => t.state === 'running' && t.rateBytesPerSec === 0 && t.etaMs === null && t.peers.find(p => p.name === 'bob')?.rateBytesPerSec === 0),
      'a progress event that shows the fetch stalled', STALLED_AFTER_MS + 3 * PROGRESS_HEARTBEAT_MS + 2_000, 20)
    assert.ok(stalled.bytesDone < stalled.bytesTotal)
    const shownAfter = Date.now() - stoppedAt
    assert.ok(shownAfter < STALLED_AFTER_MS + 2 * PROGRESS_HEARTBEAT_MS + 1_000, `the stall showed ${shownAfter} ms after bob stopped`)
    const during = progressOf().slice(seenBefore).length
    assert.ok(during >= 2, `${during} progress event(s) while nothing moved`)

    b.proc.kill('SIGCONT')
    const t = await transferEnded(c, t0.id)
    assert.equal(t.state, 'done', JSON.stringify(t.error))
    assert.deepEqual(treeDigest(out), treeDigest(src2))
  } finally {
    events.close()
  }
})
