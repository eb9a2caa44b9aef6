// Artifact limits between two real sidecar processes: the download cap of a fetch and the upload cap
// of a seeder hold (a capped fetch cannot finish sooner than the cap allows), store.configure applies
// at once and persists in config.json, pin/unpin against the size cap, and a fetch into a full file
// system fails with NO_SPACE and leaves nothing behind (root only: a small tmpfs).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSidecar, waitFor, removeStateDir, collectEvents, transferEnded, type SidecarProcess } from '../helpers/sidecar-process.ts'
import type { Transfer } from '../../sidecar/src/gen/protocol-types.ts'
import { treeDigest } from '../helpers/tree-digest.ts'

const MiB = 1024 * 1024
/** The artifact: 12 MiB in three files. */
const SIZE = 12 * MiB
/** The cap used both ways: the token bucket lets one second's worth through at once, the rest at the rate. */
const CAP = 4 * MiB
const MIN_CAPPED_SECONDS = (SIZE - CAP) / CAP * 0.8

let seeder: SidecarProcess, fetcher: SidecarProcess
const work = mkdtempSync(join(tmpdir(), 'ml-limits-'))
const src = join(work, 'src')
let artifactId = ''
let outN = 0

/** Fetches the artifact on the fetcher into a new dir (dropping its store copy first); returns seconds taken. */
async function timedFetch (maxBytesPerSec?: number): Promise<{ seconds: number, out: string, transfer: Transfer }> {
  if ((await fetcher.client.call('artifacts.list')).artifacts.some(a => a.id === artifactId && a.local)) {
    await fetcher.client.call('artifacts.remove', { artifact: artifactId })
  }
  const out = join(work, `out${++outN}`)
  const t0 = performance.now()
  const { transfer } = await fetcher.client.call('artifacts.fetch', { artifact: artifactId, out, ...(maxBytesPerSec ? { maxBytesPerSec } : {}) })
  const t = await transferEnded(fetcher, transfer.id)
  const seconds = (performance.now() - t0) / 1000
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.equal(t.bytesFromPeers, SIZE, 'every byte came from the seeder')
  assert.deepEqual(treeDigest(out), treeDigest(src), 'byte-exact tree')
  return { seconds, out, transfer: t }
}

before(async () => {
  mkdirSync(src, { recursive: true })
  for (let i = 0; i < 3; i++) writeFileSync(join(src, `part${i}.bin`), randomBytes(SIZE / 3))
  seeder = await startSidecar({ name: 'seeder' })
  fetcher = await startSidecar({ name: 'fetcher' })
  const { code } = await seeder.client.call('mesh.invite')
  assert.equal((await fetcher.client.call('mesh.join', { code })).connected, true)
  const { transfer } = await seeder.client.call('artifacts.publish', { path: src, tag: 'limits@test' })
  const t = await transferEnded(seeder, transfer.id)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  artifactId = t.artifact!
  await waitFor(async () => (await fetcher.client.call('artifacts.list')).artifacts.find(a => a.id === artifactId)?.holders.length === 1, 'the fetcher to see the artifact')
})

after(async () => {
  for (const s of [seeder, fetcher].filter(Boolean)) { await s.stop(); removeStateDir(s.stateDir) }
  rmSync(work, { recursive: true, force: true })
})

test('a fetch with a download cap takes at least as long as the cap allows', { timeout: 60_000 }, async () => {
  const { seconds, transfer } = await timedFetch(CAP)
  assert.ok(seconds >= MIN_CAPPED_SECONDS, `12 MiB at a 4 MiB/s cap took ${seconds.toFixed(2)} s (at least ${MIN_CAPPED_SECONDS.toFixed(1)} s expected)`)
  assert.equal(transfer.bytesTotal, SIZE)
})

test('store.configure: an upload cap on the seeder holds for an uncapped fetch, persists, and 0 removes it', { timeout: 90_000 }, async () => {
  const set = await seeder.client.call('store.configure', { maxUploadBytesPerSec: CAP })
  assert.equal(set.maxUploadBytesPerSec, CAP)
  assert.equal((await seeder.client.call('store.status')).maxUploadBytesPerSec, CAP)
  assert.equal(JSON.parse(readFileSync(join(seeder.stateDir, 'config.json'), 'utf8')).maxUploadBytesPerSec, CAP, 'kept in config.json')

  const { seconds } = await timedFetch()
  assert.ok(seconds >= MIN_CAPPED_SECONDS, `12 MiB from a seeder capped at 4 MiB/s took ${seconds.toFixed(2)} s (at least ${MIN_CAPPED_SECONDS.toFixed(1)} s expected)`)

  const cleared = await seeder.client.call('store.configure', { maxUploadBytesPerSec: 0 })
  assert.equal(cleared.maxUploadBytesPerSec, null)
  assert.equal(JSON.parse(readFileSync(join(seeder.stateDir, 'config.json'), 'utf8')).maxUploadBytesPerSec, undefined, 'removed from config.json')
  await timedFetch() // still byte-exact without the cap
})

test('pin keeps an artifact over the size cap; unpin lets the store evict it at once', { timeout: 60_000 }, async () => {
  await timedFetch()
  const events = collectEvents(fetcher.info, ['artifact.'])
  try {
    const pinned = await fetcher.client.call('artifacts.pin', { artifact: 'limits@test', pinned: true })
    assert.equal(pinned.artifact.id, artifactId)
    assert.equal(pinned.artifact.pinned, true)
    await waitFor(() => events.events.some(e => e.event === 'artifact.updated' && (e.data as { artifact: { id: string, pinned: boolean } }).artifact.pinned), 'artifact.updated (pinned)')

    const capped = await fetcher.client.call('store.configure', { capBytes: MiB })
    assert.equal(capped.capBytes, MiB)
    assert.ok(capped.bytes >= SIZE, `the pinned artifact stays although the store is over its cap (${capped.bytes} bytes)`)
    assert.equal(JSON.parse(readFileSync(join(fetcher.stateDir, 'config.json'), 'utf8')).storeCapBytes, MiB, 'kept in config.json')

    const unpinned = await fetcher.client.call('artifacts.pin', { artifact: artifactId, pinned: false })
    assert.equal(unpinned.artifact.pinned, false)
    const after = await fetcher.client.call('store.status')
    assert.equal(after.artifacts, 0, 'evicted once unpinned')
    assert.ok(after.bytes <= MiB, `store under its cap after eviction (${after.bytes} bytes)`)
    const listed = (await fetcher.client.call('artifacts.list')).artifacts.find(a => a.id === artifactId)
    assert.equal(listed?.local ?? false, false, 'no longer local (still listed as the seeder\'s)')
  } finally {
    events.close()
    await fetcher.client.call('store.configure', { capBytes: 10 * 1024 * MiB })
  }
})

test('pin of an artifact that is only a member\'s is NOT_FOUND; bad params are INVALID_PARAMS', async () => {
  if ((await fetcher.client.call('artifacts.list')).artifacts.some(a => a.id === artifactId && a.local)) {
    await fetcher.client.call('artifacts.remove', { artifact: artifactId })
  }
  await assert.rejects(fetcher.client.call('artifacts.pin', { artifact: artifactId, pinned: true }), (err: Error & { code?: string }) => err.code === 'NOT_FOUND' && err.message.includes(artifactId))
  await assert.rejects(fetcher.client.call('store.configure', {} as never), (err: Error & { code?: string }) => err.code === 'INVALID_PARAMS')
  await assert.rejects(fetcher.client.call('store.configure', { maxUploadBytesPerSec: -1 }), (err: Error & { code?: string }) => err.code === 'INVALID_PARAMS')
})

test('a fetch into a full file system fails with NO_SPACE and leaves no output or temp files', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a small tmpfs (CI runs as root)'); return }
  const mnt = join(work, 'small')
  mkdirSync(mnt)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'pipe' })
  } catch (err) {
    t.skip(`could not mount a 4 MiB tmpfs: ${(err as Error).message.split('\n')[0]}`)
    return
  }
  try {
    if ((await fetcher.client.call('artifacts.list')).artifacts.some(a => a.id === artifactId && a.local)) {
      await fetcher.client.call('artifacts.remove', { artifact: artifactId })
    }
    const out = join(mnt, 'out')
    const { transfer } = await fetcher.client.call('artifacts.fetch', { artifact: artifactId, out })
    const done = await transferEnded(fetcher, transfer.id)
    assert.equal(done.state, 'failed')
    assert.equal(done.error?.code, 'NO_SPACE', JSON.stringify(done.error))
    assert.match(done.error?.message ?? '', /space/i)
    assert.deepEqual(readdirSync(mnt), [], 'no output and no temp dir left on the full file system')
    // the sidecar goes on: status answers and the same fetch works where there is room
    assert.equal((await fetcher.client.call('node.status')).name, 'fetcher')
    const { out: roomy } = await timedFetch()
    assert.deepEqual(treeDigest(roomy), treeDigest(src))
  } finally {
    execFileSync('umount', [mnt], { stdio: 'pipe' })
  }
})
