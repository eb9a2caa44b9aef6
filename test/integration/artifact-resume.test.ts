// A fetch interrupted by its sidecar stopping, whether killed (SIGKILL) or shut down (SIGTERM), starts
// again by itself when that sidecar runs again: same output directory and download cap, chunks it
// already had are not fetched again, the killed run's temp tree is removed, the result is byte-exact.
// A cancelled fetch is not started again. A fetch whose holders all left fails, and goes on when one
// is back, unless that failed fetch is cancelled.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, mkdtempSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSidecar, waitFor, removeStateDir, transferEnded, type SidecarProcess } from '../helpers/sidecar-process.ts'
import type { Transfer } from '../../sidecar/src/gen/protocol-types.ts'
import { treeDigest } from '../helpers/tree-digest.ts'

const MiB = 1024 * 1024
const SIZE = 12 * MiB
/** Slow enough to interrupt the fetch mid-way (the first second is a burst). */
const CAP = 2 * MiB

let seeder: SidecarProcess
let fetcher: SidecarProcess | undefined
const fetcherState = mkdtempSync(join(tmpdir(), 'ml-resume-state-'))
const work = mkdtempSync(join(tmpdir(), 'ml-resume-'))
const src = join(work, 'src')
let artifactId = ''

const fetches = async (s: SidecarProcess): Promise<Transfer[]> => (await s.client.call('transfers.list')).transfers.filter(t => t.kind === 'fetch')
const pendingFile = (): { fetches: Array<{ out: string }> } | undefined =>
  existsSync(join(fetcherState, 'store/fetches.json')) ? JSON.parse(readFileSync(join(fetcherState, 'store/fetches.json'), 'utf8')) : undefined

/** Removes the artifact from the fetcher's store, if it is there, so the next fetch moves bytes. */
async function dropLocal (): Promise<void> {
  if ((await fetcher!.client.call('artifacts.list')).artifacts.some(a => a.id === artifactId && a.local)) {
    await fetcher!.client.call('artifacts.remove', { artifact: artifactId })
  }
}

async function startFetcher (): Promise<SidecarProcess> {
  fetcher = await startSidecar({ name: 'fetcher', stateDir: fetcherState })
  return fetcher
}

/** Starts a capped fetch into `out` and waits until part of it (not all) is done. */
async function startAndInterruptible (out: string): Promise<Transfer> {
  const f = fetcher!
  const { transfer } = await f.client.call('artifacts.fetch', { artifact: artifactId, out, maxBytesPerSec: CAP })
  return waitFor(async () => {
    const t = (await fetches(f)).find(x => x.id === transfer.id)
    return t && t.state === 'running' && t.bytesDone >= 3 * MiB ? t : undefined
  }, 'the fetch to be under way', 20_000, 50)
}

/** After a restart: the fetch into `out` starts again by itself (a transfer other than `not`) and ends. */
async function resumedAndDone (out: string, not?: string): Promise<Transfer> {
  const f = fetcher!
  return waitFor(async () => {
    const t = (await fetches(f)).find(x => x.path === out && x.id !== not)
    if (t?.state === 'running') return undefined
    return t
  }, `the fetch into ${out} to start again and end`, 60_000, 100)
}

before(async () => {
  mkdirSync(src, { recursive: true })
  for (let i = 0; i < 4; i++) writeFileSync(join(src, `part${i}.bin`), randomBytes(SIZE / 4))
  seeder = await startSidecar({ name: 'seeder' })
  await startFetcher()
  const { code } = await seeder.client.call('mesh.invite')
  assert.equal((await fetcher!.client.call('mesh.join', { code })).connected, true)
  const { transfer } = await seeder.client.call('artifacts.publish', { path: src })
  const t = await transferEnded(seeder, transfer.id)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  artifactId = t.artifact!
  await waitFor(async () => (await fetcher!.client.call('artifacts.list')).artifacts.find(a => a.id === artifactId)?.holders.length === 1, 'the fetcher to see the artifact')
})

after(async () => {
  await fetcher?.stop()
  await seeder?.stop()
  removeStateDir(seeder.stateDir)
  rmSync(fetcherState, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
})

test('a fetching sidecar killed with SIGKILL starts the fetch again when it runs again', { timeout: 120_000 }, async () => {
  const out = join(work, 'killed')
  const before = await startAndInterruptible(out)
  assert.deepEqual(pendingFile()?.fetches.map(f => f.out), [out], 'recorded while it runs')
  await fetcher!.stop('SIGKILL')
  assert.equal(readdirSync(work).filter(n => n.startsWith('.killed.meshlink-')).length, 1, 'the killed run left its temp tree')

  await startFetcher()
  const t = await resumedAndDone(out)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.ok(t.bytesFromPeers <= SIZE - before.bytesDone + 2 * MiB, `what the killed run had stored was not fetched again (${t.bytesFromPeers} bytes moved after ${before.bytesDone} were done)`)
  assert.deepEqual(treeDigest(out), treeDigest(src), 'byte-exact')
  assert.deepEqual(readdirSync(work).filter(n => n.includes('.meshlink-')), [], 'the stale temp tree was removed')
  assert.match(fetcher!.stderr(), /resuming the fetch of [0-9a-f]{64} into .*killed/)
  assert.deepEqual(pendingFile()?.fetches ?? [], [], 'forgotten once done')
})

test('a fetching sidecar stopped with SIGTERM starts the fetch again too; a cancelled one does not', { timeout: 120_000 }, async () => {
  const out = join(work, 'stopped')
  await dropLocal()
  await startAndInterruptible(out)
  assert.equal(await fetcher!.stop('SIGTERM'), 0)
  assert.deepEqual(pendingFile()?.fetches.map(f => f.out), [out], 'kept for the next start')
  assert.deepEqual(readdirSync(work).filter(n => n.includes('.meshlink-')), [], 'a clean stop removes its temp tree')

  await startFetcher()
  const t = await resumedAndDone(out)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.deepEqual(treeDigest(out), treeDigest(src), 'byte-exact')

  // cancelled: gone from fetches.json at once and not started again after a restart
  const cancelledOut = join(work, 'cancelled')
  await dropLocal()
  const running = await startAndInterruptible(cancelledOut)
  await fetcher!.client.call('transfers.cancel', { id: running.id })
  await waitFor(() => (pendingFile()?.fetches ?? []).length === 0, 'the cancelled fetch to leave fetches.json')
  await fetcher!.stop()
  await startFetcher()
  await waitFor(async () => (await fetcher!.client.call('peers.list')).peers.some(p => p.connected), 'the fetcher to reconnect')
  await new Promise(resolve => setTimeout(resolve, 2000))
  assert.deepEqual((await fetches(fetcher!)).filter(x => x.path === cancelledOut), [], 'not started again')
  assert.equal(existsSync(cancelledOut), false)
})

test('a fetch whose only holder leaves fails with PEER_UNREACHABLE and goes on when it is back; cancelling the failed one stops that', { timeout: 150_000 }, async () => {
  const f = fetcher!
  await dropLocal()
  const outs = [join(work, 'holder-gone'), join(work, 'holder-gone-cancelled')]
  const started: Transfer[] = []
  for (const out of outs) started.push((await f.client.call('artifacts.fetch', { artifact: artifactId, out, maxBytesPerSec: CAP })).transfer)
  await waitFor(async () => (await fetches(f)).filter(x => started.some(s => s.id === x.id) && x.bytesDone >= 2 * MiB).length === 2, 'both fetches under way', 20_000, 50)
  const seederState = seeder.stateDir
  await seeder.stop()

  // with no holder for 30 s both fail, saying they will go on
  const failed = await waitFor(async () => {
    const xs = (await fetches(f)).filter(x => started.some(s => s.id === x.id))
    return xs.every(x => x.state === 'failed') ? xs : undefined
  }, 'both fetches to fail', 60_000, 250)
  for (const x of failed) {
    assert.equal(x.error?.code, 'PEER_UNREACHABLE')
    assert.match(x.error?.message ?? '', /goes on when a member that holds it connects again/)
  }
  assert.deepEqual(pendingFile()?.fetches.map(p => p.out).sort(), [...outs].sort(), 'both kept for a restart')
  const cancelled = failed.find(x => x.path === outs[1])!
  assert.equal((await f.client.call('transfers.cancel', { id: cancelled.id })).transfer.state, 'failed')
  assert.deepEqual(pendingFile()?.fetches.map(p => p.out), [outs[0]], 'cancel on the failed fetch dropped its restart')

  // the holder is back (it dials the fetcher, whose address it knows): the first fetch goes on
  seeder = await startSidecar({ name: 'seeder', stateDir: seederState })
  const t = await resumedAndDone(outs[0], started[0].id)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.deepEqual(treeDigest(outs[0]), treeDigest(src), 'byte-exact')
  await new Promise(resolve => setTimeout(resolve, 1000))
  assert.deepEqual((await fetches(f)).filter(x => x.path === outs[1] && x.id !== cancelled.id), [], 'the cancelled one did not start again')
  assert.equal(existsSync(outs[1]), false)
})
