// Getting a manifest between real sidecar processes: a holder that holds back the manifest (test fault
// `stall-manifests`: it answers only after a minute) does not hold up a fetch while another holder has
// it (both publish the same tree, so both hold the same artifact: its id is its content), and a fetch
// whose only holder does that fails after SETUP_TIMEOUT_MS, saying why, instead of waiting for ever.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSidecar, waitFor, removeStateDir, transferEnded, type SidecarProcess } from '../helpers/sidecar-process.ts'
import { treeDigest } from '../helpers/tree-digest.ts'
import { SETUP_TIMEOUT_MS, TEST_MANIFEST_STALL_MS } from '../../sidecar/src/swarm/constants.ts'

let staller: SidecarProcess, holder: SidecarProcess, fetcher: SidecarProcess
const work = mkdtempSync(join(tmpdir(), 'ml-manifest-'))
const src = join(work, 'src')

before(async () => {
  mkdirSync(src)
  for (let i = 0; i < 4; i++) writeFileSync(join(src, `f${i}.bin`), randomBytes(1024 * 1024 + i))
  staller = await startSidecar({ name: 'staller', env: { MESHLINK_TEST_FAULT: 'stall-manifests' } })
  holder = await startSidecar({ name: 'holder' })
  fetcher = await startSidecar({ name: 'fetcher' })
  const { code } = await staller.client.call('mesh.invite')
  for (const s of [holder, fetcher]) assert.equal((await s.client.call('mesh.join', { code })).connected, true)
  await waitFor(async () => (await fetcher.client.call('peers.list')).peers.filter(p => p.connected && p.name).length === 2, 'the fetcher to know both holders')
})

after(async () => {
  for (const s of [staller, holder, fetcher].filter(Boolean)) { await s.stop(); removeStateDir(s.stateDir) }
  rmSync(work, { recursive: true, force: true })
})

test('a holder that holds back the manifest does not hold up a fetch: another holder sends it', { timeout: 60_000 }, async () => {
  let id = ''
  for (const s of [staller, holder]) {
    const t = await transferEnded(s, (await s.client.call('artifacts.publish', { path: src })).transfer.id)
    assert.equal(t.state, 'done', JSON.stringify(t.error))
    assert.ok(id === '' || t.artifact === id, 'the same tree is the same artifact')
    id = t.artifact!
  }
  await waitFor(async () => ((await fetcher.client.call('artifacts.list')).artifacts.find(a => a.id === id)?.holders.length ?? 0) === 2, 'the fetcher to see both holders')
  const out = join(work, 'out')
  const t0 = performance.now()
  const t = await transferEnded(fetcher, (await fetcher.client.call('artifacts.fetch', { artifact: id, out })).transfer.id)
  const seconds = (performance.now() - t0) / 1000
  assert.equal(t.state, 'done', JSON.stringify(t.error))
  assert.ok(seconds < TEST_MANIFEST_STALL_MS / 1000 / 3, `the fetch took ${seconds.toFixed(1)} s: it waited for the staller's manifest`)
  assert.deepEqual(treeDigest(out), treeDigest(src))
})

test('a fetch whose only holder never sends the manifest fails after the setup timeout, saying so', { timeout: 60_000 }, async () => {
  const only = join(work, 'only')
  mkdirSync(only)
  writeFileSync(join(only, 'a.bin'), randomBytes(100_000))
  const p = await transferEnded(staller, (await staller.client.call('artifacts.publish', { path: only })).transfer.id)
  assert.equal(p.state, 'done', JSON.stringify(p.error))
  const id = p.artifact!
  await waitFor(async () => ((await fetcher.client.call('artifacts.list')).artifacts.find(a => a.id === id)?.holders.length ?? 0) === 1, 'the fetcher to see the staller hold it')
  const t0 = performance.now()
  const { transfer } = await fetcher.client.call('artifacts.fetch', { artifact: id, out: join(work, 'only-out') })
  const t = await transferEnded(fetcher, transfer.id, 40_000)
  const seconds = (performance.now() - t0) / 1000
  assert.equal(t.state, 'failed')
  assert.equal(t.error?.code, 'PEER_UNREACHABLE')
  assert.match(t.error?.message ?? '', /no answer to the manifest request came in/)
  assert.ok(seconds >= SETUP_TIMEOUT_MS / 1000 * 0.9 && seconds < SETUP_TIMEOUT_MS / 1000 + 10, `failed after ${seconds.toFixed(1)} s`)
  await fetcher.client.call('transfers.cancel', { id: transfer.id }) // no restart when a holder is back
})
