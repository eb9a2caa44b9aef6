// Artifact sync between real sidecar processes: publish on A; B fetches; C fetches from A, B and a
// peer that corrupts chunks, and A is killed in the middle → C completes from B; byte-exact trees;
// a manifest with path traversal is refused; a rebuilt tree shares most chunks; a fetching sidecar
// killed mid-way resumes without fetching again what it had.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync, symlinkSync, readdirSync, rmSync, mkdtempSync, cpSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSidecar, waitFor, removeStateDir, tempStateDir, transferEnded, type SidecarProcess } from '../helpers/sidecar-process.ts'
import type { Transfer } from '../../sidecar/src/gen/protocol-types.ts'
import { encodeManifest, manifestId } from '../../sidecar/src/store/manifest.ts'
import { treeDigest } from '../helpers/tree-digest.ts'

let a: SidecarProcess, b: SidecarProcess, c: SidecarProcess, d: SidecarProcess
const work = mkdtempSync(join(tmpdir(), 'ml-art-'))
const src = join(work, 'src')
let inviteCode = ''
let artifactId = ''
let evilId = ''
const all = (): SidecarProcess[] => [a, b, c, d].filter(Boolean)

/** A tree of ~20 MiB: random files, a big one, an empty dir, an executable, an in-tree symlink. */
function makeTree (dir: string): void {
  mkdirSync(join(dir, 'assets/img'), { recursive: true })
  mkdirSync(join(dir, 'empty'))
  for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'assets', `f${i}.js`), randomBytes(20_000 + i * 10_000))
  writeFileSync(join(dir, 'assets/img/big.bin'), randomBytes(12 * 1024 * 1024))
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
  writeFileSync(join(dir, 'empty.txt'), '')
  symlinkSync('assets/f1.js', join(dir, 'main.js'))
}

async function transfer (s: SidecarProcess, id: string): Promise<Transfer> {
  return (await s.client.call('transfers.list')).transfers.find(t => t.id === id)!
}

async function join3 (s: SidecarProcess): Promise<void> {
  assert.equal((await s.client.call('mesh.join', { code: inviteCode })).connected, true)
}

async function sees (s: SidecarProcess, id: string, holders: number): Promise<void> {
  await waitFor(async () => ((await s.client.call('artifacts.list')).artifacts.find(x => x.id === id)?.holders.length ?? 0) >= holders, `${id.slice(0, 8)} announced by ${holders} holder(s)`)
}

before(async () => {
  makeTree(src)
  // D's store holds a manifest that climbs out of its output dir (written before it starts)
  const dState = tempStateDir('ml-d')
  const evil = encodeManifest({ v: 1, entries: [{ path: 'ok', type: 'dir', mode: 0o755 }, { path: 'ok/../../escaped', type: 'dir', mode: 0o755 } as never] })
  evilId = manifestId(evil)
  mkdirSync(join(dState, 'store/manifests'), { recursive: true })
  writeFileSync(join(dState, 'store/manifests', evilId), evil)
  writeFileSync(join(dState, 'store/index.json'), JSON.stringify({ v: 1, artifacts: [{ id: evilId, tag: 'evil', size: 0, files: 0, chunks: 0, createdAt: new Date().toISOString(), lastUsed: new Date().toISOString(), pinned: true, complete: true, published: true }] }))
  a = await startSidecar({ name: 'alice' })
  b = await startSidecar({ name: 'bob' })
  c = await startSidecar({ name: 'carol' })
  d = await startSidecar({ name: 'dave', stateDir: dState, env: { MESHLINK_TEST_FAULT: 'corrupt-chunks' } })
  inviteCode = (await a.client.call('mesh.invite')).code
  for (const s of [b, c, d]) await join3(s)
  await waitFor(async () => (await a.client.call('peers.list')).peers.filter(p => p.connected && p.name).length === 3, 'alice to know the others')
})

after(async () => {
  for (const s of all()) { await s.stop(); removeStateDir(s.stateDir) }
  rmSync(work, { recursive: true, force: true })
})

test('publish on A: the artifact is listed and announced; store verify is clean', { timeout: 60_000 }, async () => {
  const { transfer: t0 } = await a.client.call('artifacts.publish', { path: src, tag: 'web@main' })
  assert.equal(t0.kind, 'publish')
  const t = await transferEnded(a, t0.id)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  artifactId = t.artifact!
  const mine = (await a.client.call('artifacts.list')).artifacts.find(x => x.id === artifactId)!
  assert.deepEqual({ tag: mine.tag, local: mine.local, complete: mine.complete, pinned: mine.pinned, mine: mine.mine, files: mine.files }, { tag: 'web@main', local: true, complete: true, pinned: true, mine: true, files: 33 })
  const v = await a.client.call('store.verify')
  assert.deepEqual(v.corrupt, [])
  assert.ok(v.chunks > 30)
  await sees(b, artifactId, 1)
})

test('B fetches from A by tag: byte-exact tree', { timeout: 60_000 }, async () => {
  const out = join(work, 'b-out')
  const { transfer: t0 } = await b.client.call('artifacts.fetch', { artifact: 'web@main', out })
  const t = await transferEnded(b, t0.id)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.deepEqual(treeDigest(out), treeDigest(src))
  assert.ok(t.bytesFromPeers >= t.bytesTotal && t.bytesFromPeers < t.bytesTotal * 1.2, `${t.bytesFromPeers} bytes received for ${t.bytesTotal}: ${JSON.stringify(t.peers)}`)
  await assert.rejects(b.client.call('artifacts.fetch', { artifact: artifactId, out }), { code: 'CONFLICT' })
  await assert.rejects(b.client.call('artifacts.fetch', { artifact: 'nope@x', out: join(work, 'x') }), { code: 'NOT_FOUND' })
})

test('a manifest that climbs out of its output dir is refused; nothing is written', { timeout: 30_000 }, async () => {
  await sees(c, evilId, 1)
  const out = join(work, 'c-evil')
  const { transfer: t0 } = await c.client.call('artifacts.fetch', { artifact: 'evil', out })
  const t = await transferEnded(c, t0.id)
  assert.equal(t.state, 'failed')
  assert.equal(t.error?.code, 'UNSAFE_MANIFEST')
  assert.equal(existsSync(out), false)
  assert.equal(existsSync(join(work, 'escaped')), false)
})

test('C fetches from A, B and a corrupting D; A is killed mid-way: C completes from B, drops D, byte-exact', { timeout: 90_000 }, async () => {
  // D fetches first (it serves corrupted bytes, but fetches honestly)
  const dOut = join(work, 'd-out')
  const dt = await transferEnded(d, (await d.client.call('artifacts.fetch', { artifact: artifactId, out: dOut })).transfer.id)
  assert.equal(dt.state, 'done', JSON.stringify(dt.error))
  await sees(c, artifactId, 3)
  const out = join(work, 'c-out')
  const { transfer: t0 } = await c.client.call('artifacts.fetch', { artifact: artifactId, out, maxBytesPerSec: 4 * 1024 * 1024 })
  await waitFor(async () => { const t = await transfer(c, t0.id); return t.bytesDone > t.bytesTotal * 0.3 || t.state !== 'running' }, 'C to be a third of the way', 30_000, 50)
  const mid = await transfer(c, t0.id)
  assert.equal(mid.state, 'running')
  assert.ok(mid.peers.find(p => p.name === 'alice' && p.bytes > 0), `alice served part: ${JSON.stringify(mid.peers)}`)
  await a.stop('SIGKILL')
  const t = await transferEnded(c, t0.id)
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.deepEqual(treeDigest(out), treeDigest(src))
  const dave = t.peers.find(p => p.name === 'dave')
  assert.equal(dave?.state, 'dropped', `dave: ${JSON.stringify(dave)}`)
  assert.ok(t.peers.find(p => p.name === 'bob' && p.bytes > 0))
  assert.equal(t.bytesDone, t.bytesTotal)
  assert.equal(existsSync(join(work, '.c-out')), false)
  assert.deepEqual(readdirSync(work).filter(n => n.includes('.meshlink-')), [], 'no temp dirs left')
})

test('a rebuilt tree shares most chunks; a fetcher killed mid-way resumes without refetching', { timeout: 90_000 }, async () => {
  const rebuilt = join(work, 'rebuilt')
  cpSync(src, rebuilt, { recursive: true, verbatimSymlinks: true })
  writeFileSync(join(rebuilt, 'assets/f3.js'), randomBytes(50_000))
  writeFileSync(join(rebuilt, 'assets/new.js'), randomBytes(30_000))
  const t2 = await transferEnded(b, (await b.client.call('artifacts.publish', { path: rebuilt, tag: 'web@main' })).transfer.id)
  assert.equal(t2.state, 'done')
  const id2 = t2.artifact!
  // C has the first build: only the changed chunks move
  await sees(c, id2, 1)
  const ct = await transferEnded(c, (await c.client.call('artifacts.fetch', { artifact: 'web@main', out: join(work, 'c-out2') })).transfer.id)
  assert.equal(ct.state, 'done', JSON.stringify(ct.error))
  assert.equal(ct.artifact, id2, 'the tag names the newest artifact')
  assert.ok(ct.bytesFromPeers < ct.bytesTotal * 0.05, `${ct.bytesFromPeers} of ${ct.bytesTotal} bytes moved`)
  assert.deepEqual(treeDigest(join(work, 'c-out2')), treeDigest(rebuilt))

  // a fresh sidecar E fetches slowly from B, is killed, restarts, and goes on. C (which also holds
  // the rebuilt tree) goes first: with two holders the endgame may fetch a chunk twice, and those
  // duplicates would blur the count of what the resumed fetch asked for
  await c.stop()
  const e1 = await startSidecar({ name: 'erin' })
  let e = e1
  try {
    inviteCode = (await b.client.call('mesh.invite')).code // A is gone
    await join3(e1)
    await sees(e1, id2, 1)
    const out = join(work, 'e-out')
    const { transfer: et } = await e1.client.call('artifacts.fetch', { artifact: id2, out, maxBytesPerSec: 4 * 1024 * 1024 })
    await waitFor(async () => (await transfer(e1, et.id)).bytesDone > 6 * 1024 * 1024, 'E to get 6 MiB', 30_000, 50)
    await e1.stop('SIGKILL')
    assert.equal(existsSync(out), false, 'no half-written output')
    // the restarted sidecar carries on by itself (see artifact-resume.test.ts); asking again while it
    // does is refused, as for any second fetch into the same directory
    e = await startSidecar({ name: 'erin', stateDir: e1.stateDir })
    const resumed = await waitFor(async () => (await e.client.call('transfers.list')).transfers.find(x => x.kind === 'fetch' && x.path === out), 'the fetch to start again', 30_000)
    await assert.rejects(e.client.call('artifacts.fetch', { artifact: id2, out }), (err: Error & { code?: string }) => err.code === 'CONFLICT' || /exists/.test(err.message))
    const r = await transferEnded(e, resumed.id)
    assert.equal(r.state, 'done', JSON.stringify(r.error))
    assert.ok(r.bytesFromPeers <= r.bytesTotal - 6 * 1024 * 1024, `resumed: ${r.bytesFromPeers} of ${r.bytesTotal} fetched again`)
    assert.deepEqual(treeDigest(out), treeDigest(rebuilt))
  } finally {
    await e.stop()
    removeStateDir(e1.stateDir)
  }
})
