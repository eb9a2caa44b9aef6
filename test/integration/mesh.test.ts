// Three member sidecars join one mesh by invite and see each other; a fourth of another mesh cannot
// connect to any of them; a restarted member reconnects to known peers with mDNS off.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { startSidecar, waitFor, collectEvents, removeStateDir, type SidecarProcess } from '../helpers/sidecar-process.ts'
import { unusedPort } from '../helpers/servers.ts'

const started: SidecarProcess[] = []
const dirs: string[] = []
after(async () => {
  await Promise.all(started.map(s => s.stop()))
  for (const d of dirs) removeStateDir(d)
})
async function sidecar (name: string, opts: Parameters<typeof startSidecar>[0] = {}): Promise<SidecarProcess> {
  const s = await startSidecar({ name, ...opts })
  started.push(s)
  if (!dirs.includes(s.stateDir)) dirs.push(s.stateDir)
  return s
}
const connectedNames = async (s: SidecarProcess): Promise<string[]> =>
  (await s.client.call('peers.list')).peers.filter(p => p.connected).map(p => p.name ?? '?').sort()

test('three sidecars join one mesh by invite and see each other', async () => {
  const alice = await sidecar('alice')
  const bob = await sidecar('bob')
  const carol = await sidecar('carol')
  const events = collectEvents(alice.info, ['peer.'])
  try {
    const { code, mesh } = await alice.client.call('mesh.invite')
    assert.match(code, /^ML1/)
    const jb = await bob.client.call('mesh.join', { code })
    assert.equal(jb.connected, true)
    assert.equal(jb.mesh.id, mesh.id)
    assert.equal(jb.inviter, alice.info.peerId)
    // carol joins with an invite from bob, which names bob only: she meets alice through peer exchange
    const { code: fromBob } = await bob.client.call('mesh.invite')
    const jc = await carol.client.call('mesh.join', { code: fromBob })
    assert.equal(jc.connected, true)
    for (const [s, expected] of [[alice, 'bob,carol'], [bob, 'alice,carol'], [carol, 'alice,bob']] as const) {
      await waitFor(async () => (await connectedNames(s)).join() === expected, `${expected} seen by ${s.info.peerId}`)
    }
    // joining the mesh one is already in keeps it (and its members)
    const { code: fromAlice } = await alice.client.call('mesh.invite')
    const again = await carol.client.call('mesh.join', { code: fromAlice })
    assert.equal(again.connected, true)
    assert.equal(again.mesh.id, mesh.id, 'joining the current mesh again keeps it')
    assert.equal((await connectedNames(carol)).join(), 'alice,bob')
    const st = await carol.client.call('node.status')
    assert.equal(st.mesh.id, mesh.id)
    assert.equal(st.name, 'carol')
    assert.equal(st.peersConnected, 2)
    const peers = (await alice.client.call('peers.list')).peers
    for (const p of peers) {
      assert.equal(p.connection, 'direct')
      assert.ok(p.addrs.some(a => a.startsWith('/ip4/127.0.0.1/tcp/')), `addresses of ${p.name}: ${p.addrs}`)
      assert.ok(p.lastSeen !== null)
    }
    await waitFor(async () => (await alice.client.call('peers.list')).peers.every(p => p.rttMs !== null), 'RTTs')
    const rtt = await alice.client.call('peers.ping', { peer: bob.info.peerId })
    assert.ok(rtt.rttMs >= 0 && rtt.rttMs < 1000)
    await waitFor(() => events.events.some(e => e.event === 'peer.connected'), 'peer.connected event')

    // a name change reaches the others
    await bob.client.call('node.setName', { name: 'bobby' })
    await waitFor(async () => (await connectedNames(alice)).includes('bobby'), 'alice to learn bob\'s new name')
    await waitFor(() => events.events.some(e => e.event === 'peer.updated' && (e.data as { peer: { name: string } }).peer.name === 'bobby'), 'peer.updated event')

    // an outsider (own personal mesh) dials every member; no connection forms on either side
    const members = [alice, bob, carol]
    const addrs = await Promise.all(members.map(async m => (await m.client.call('node.status')).listenAddrs[0]))
    const mallory = await sidecar('mallory', { args: ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', ...addrs.flatMap(a => ['--bootstrap', a])] })
    const mInvite = await mallory.client.call('mesh.invite')
    // every dial has been made and refused (the checks below would pass before one happened; the last one needs them), then a while for anything they might start
    await waitFor(() => (mallory.stderr().match(/bootstrap dial of \S+ failed/g) ?? []).length >= addrs.length, 'the outsider\'s bootstrap dials to fail')
    await new Promise(r => setTimeout(r, 3000))
    assert.deepEqual((await mallory.client.call('peers.list')).peers.filter(p => p.connected), [])
    assert.equal((await mallory.client.call('node.status')).peersConnected, 0)
    for (const m of members) {
      const ids = (await m.client.call('peers.list')).peers.map(p => p.id)
      assert.ok(!ids.includes(mallory.info.peerId), 'a member lists the outsider')
    }
    // and the outsider cannot join the members' mesh with its own invite either: a member joining mallory would leave the mesh, so use a fresh node
    assert.notEqual(mInvite.mesh.id, mesh.id)
    assert.match(mallory.stderr(), /failed|error/i, 'the outsider logs its failed dials')

    // leave: carol goes to a new personal mesh and forgets the others
    const left = await carol.client.call('mesh.leave')
    assert.equal(left.left.id, mesh.id)
    assert.equal(left.mesh.personal, true)
    assert.notEqual(left.mesh.id, mesh.id)
    assert.deepEqual((await carol.client.call('peers.list')).peers, [])
    await waitFor(async () => !(await connectedNames(alice)).includes('carol'), 'alice to see carol gone')
    assert.equal(existsSync(`${carol.stateDir}/peers/${mesh.id}.json`), false, 'left mesh peer book removed')
  } finally {
    events.close()
  }
})

test('a restarted member reconnects to known peers with mDNS off', async () => {
  const a = await sidecar('a')
  // b restarts on its port below: one the kernel never hands out by itself, so no other process takes it meanwhile
  const b = await sidecar('b', { args: ['--listen', `/ip4/127.0.0.1/tcp/${await unusedPort()}`, '--no-mdns'] })
  const { code } = await a.client.call('mesh.invite')
  assert.equal((await b.client.call('mesh.join', { code })).connected, true)
  await waitFor(async () => (await connectedNames(a)).join() === 'b', 'a to see b')
  // restart b with the same state dir (and, here, the same port it had: its address is what a knows)
  const bAddr = (await b.client.call('node.status')).listenAddrs[0]
  const port = /\/tcp\/(\d+)/.exec(bAddr)![1]
  assert.equal(await b.stop(), 0, 'clean exit on SIGTERM')
  await waitFor(async () => (await connectedNames(a)).length === 0, 'a to notice b is gone')
  const offline = (await a.client.call('peers.list')).peers[0]
  assert.equal(offline.connected, false)
  assert.equal(offline.connection, null)
  assert.equal(offline.name, 'b')
  const b2 = await sidecar('b', { stateDir: b.stateDir, args: ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns'] })
  assert.equal(b2.info.peerId, b.info.peerId, 'same identity after restart')
  await waitFor(async () => (await connectedNames(b2)).join() === 'a', 'restarted b to reconnect to a', 20_000)
  await waitFor(async () => (await connectedNames(a)).join() === 'b', 'a to see b again', 20_000)

  // restart a on a NEW port: b still finds it because a dials b (known address) on start
  await a.stop()
  const a2 = await sidecar('a', { stateDir: a.stateDir })
  await waitFor(async () => (await connectedNames(a2)).join() === 'b', 'restarted a (new port) to reconnect', 20_000)
})
