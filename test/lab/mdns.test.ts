// mDNS on a real (namespaced) LAN. Two members of one mesh that were never introduced find and
// connect to each other by mDNS alone; two members of another mesh on the same bridge do the same,
// and the two meshes never list each other: the mDNS service tag is derived from the mesh secret, so
// they do not even answer each other, and an explicit dial across meshes fails in the Noise
// handshake (prologue bound to the secret).
//
// Needs root and iproute2 (skips otherwise). Run `npm run build` first: the sidecars are dist/meshlink.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, labUnavailable, LabSetupError, type Lab, type LabHost } from './lab-net.ts'
import { startSidecar, tempStateDir, removeStateDir, waitFor, SIDECAR_BUNDLE, type SidecarProcess } from '../helpers/sidecar-process.ts'

/** Both pairs must have found each other by then (six mDNS query rounds). */
const DISCOVERY_MS = 30_000
/** The meshes are watched for cross-listing at least this long (three mDNS query rounds). */
const ISOLATION_MS = 15_000
/** How long the outsider's bootstrap dial, and what follows, is watched. */
const BOOTSTRAP_WATCH_MS = 5_000
const POLL_MS = 250

test('mDNS discovery on a bridged LAN is scoped to the mesh', { timeout: 180_000 }, async (t) => {
  const why = labUnavailable()
  if (why !== undefined) {
    t.skip(`needs root and iproute2 for network namespaces: ${why}`)
    return
  }
  assert.ok(existsSync(SIDECAR_BUNDLE), `${SIDECAR_BUNDLE} is missing: run \`npm run build\` first`)

  let lab: Lab
  try {
    lab = createLab(`mlab${process.pid}`, ['a', 'b', 'c', 'd'])
  } catch (err) {
    if (!(err instanceof LabSetupError)) throw err
    t.skip(`needs root and iproute2 for network namespaces: ${err.message}`)
    return
  }
  const running: SidecarProcess[] = []
  const dirs: string[] = []
  t.after(async () => {
    await Promise.all(running.map(s => s.stop().catch(() => undefined)))
    lab.destroy()
    for (const d of dirs) removeStateDir(d)
  })
  const { a, b, c, d } = lab.hosts

  /** A sidecar in `host`'s namespace, listening on all its addresses, mDNS on. */
  const newDir = (): string => {
    const dir = tempStateDir('ml-lab')
    dirs.push(dir)
    return dir
  }
  const start = async (host: LabHost, name: string, stateDir: string, extra: string[] = []): Promise<SidecarProcess> => {
    const s = await startSidecar({
      name,
      stateDir,
      prefix: host.prefix,
      // --parent-pid: the sidecar exits by itself should this test process die before its cleanup
      args: ['--listen', '/ip4/0.0.0.0/tcp/0', '--parent-pid', String(process.pid), ...extra]
    })
    running.push(s)
    return s
  }
  const stop = async (s: SidecarProcess): Promise<void> => {
    assert.equal(await s.stop(), 0, `sidecar exited uncleanly (${s.proc.signalCode}); stderr:\n${s.stderr()}`)
    const i = running.indexOf(s)
    if (i !== -1) running.splice(i, 1)
  }
  /** A fresh state dir holding only the mesh of `from` (same secret, no identity, no peer records). */
  const sameMeshAs = (from: string): string => {
    const dir = newDir()
    copyFileSync(join(from, 'mesh.json'), join(dir, 'mesh.json'))
    return dir
  }

  // first runs create each mesh (alice's, carol's); the copies make bob and dave members who know
  // the secret but not a single peer
  const dirA = newDir()
  const dirC = newDir()
  for (const [host, name, dir] of [[a, 'alice', dirA], [c, 'carol', dirC]] as const) {
    const s = await start(host, name, dir)
    assert.deepEqual((await s.client.call('peers.list')).peers, [], `${name} knows peers before anyone met`)
    await stop(s)
  }
  const dirB = sameMeshAs(dirA)
  const dirD = sameMeshAs(dirC)
  for (const dir of [dirB, dirD]) assert.deepEqual(readdirSync(dir), ['mesh.json'])

  const t0 = Date.now()
  const [alice, bob, carol, dave] = await Promise.all([
    start(a, 'alice', dirA), start(b, 'bob', dirB), start(c, 'carol', dirC), start(d, 'dave', dirD)
  ])
  const upMs = Date.now() - t0
  const who = new Map([alice, bob, carol, dave].map((s, i) => [s.info.peerId, ['alice', 'bob', 'carol', 'dave'][i]]))
  const meshOf = new Map<SidecarProcess, string>()
  for (const [s, host] of [[alice, a], [bob, b], [carol, c], [dave, d]] as const) {
    const st = await s.client.call('node.status')
    meshOf.set(s, st.mesh.id)
    assert.equal(st.mdns, true)
    assert.equal(st.name, who.get(s.info.peerId))
    // the wildcard listener is announced as the host's real addresses, never as 0.0.0.0
    assert.ok(st.listenAddrs.some(x => x.startsWith(`/ip4/${host.addr}/tcp/`)), `${st.name} listens on ${st.listenAddrs}`)
    assert.ok(!st.listenAddrs.some(x => x.includes('/ip4/0.0.0.0/')), `${st.name} announces ${st.listenAddrs}`)
  }
  assert.equal(meshOf.get(alice), meshOf.get(bob))
  assert.equal(meshOf.get(carol), meshOf.get(dave))
  assert.notEqual(meshOf.get(alice), meshOf.get(carol))

  const pairs = [[alice, bob], [bob, alice], [carol, dave], [dave, carol]] as const
  const otherMesh = (s: SidecarProcess): SidecarProcess[] => meshOf.get(s) === meshOf.get(alice) ? [carol, dave] : [alice, bob]
  const foundAt = new Map<SidecarProcess, number>()
  const violations: string[] = []
  /** One look at every sidecar: records first sightings and any peer from the other mesh. */
  const look = async (): Promise<void> => {
    await Promise.all([alice, bob, carol, dave].map(async (s) => {
      const peers = (await s.client.call('peers.list')).peers
      for (const o of otherMesh(s)) {
        if (peers.some(p => p.id === o.info.peerId)) violations.push(`${who.get(s.info.peerId)} lists ${who.get(o.info.peerId)} (other mesh)`)
      }
    }))
    for (const [s, o] of pairs) {
      if (foundAt.has(s)) continue
      const p = (await s.client.call('peers.list')).peers.find(x => x.id === o.info.peerId)
      // found = connected and the other's display name known (presence has run)
      if (p?.connected === true && p.name === who.get(o.info.peerId)) foundAt.set(s, Date.now() - t0)
    }
  }
  const deadline = t0 + DISCOVERY_MS
  while (Date.now() < deadline && (foundAt.size < pairs.length || Date.now() < t0 + ISOLATION_MS)) {
    await look()
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  const timings = pairs.map(([s, o]) => {
    const at = foundAt.get(s)
    return `${who.get(s.info.peerId)}→${who.get(o.info.peerId)} ${at === undefined ? 'never' : `${at} ms (${at - upMs} ms after all were up)`}`
  })
  t.diagnostic(`sidecars up after ${upMs} ms; found, from their start: ${timings.join(', ')}`)
  const logs = (): string => [alice, bob, carol, dave].map(s => `--- ${who.get(s.info.peerId)}\n${s.stderr()}`).join('\n')
  for (const [s, o] of pairs) {
    assert.ok(foundAt.has(s), `${who.get(s.info.peerId)} did not find ${who.get(o.info.peerId)} by mDNS within ${DISCOVERY_MS} ms ` +
      `(if no pair found the other, check that multicast crosses the lab bridge)\n${logs()}`)
  }
  assert.deepEqual(violations, [], 'a sidecar listed a peer of the other mesh')
  for (const s of [alice, bob, carol, dave]) {
    const st = await s.client.call('node.status')
    assert.equal(st.peersConnected, 1, `${st.name} has ${st.peersConnected} connections`)
    const peers = (await s.client.call('peers.list')).peers
    assert.equal(peers.length, 1, `${st.name} lists ${peers.map(p => p.name ?? p.id)}`)
    assert.equal(peers[0].connection, 'direct')
  }

  // the outsider dials alice on purpose: carol restarts with alice's address as a bootstrap
  await stop(carol)
  const aliceAddr = (await alice.client.call('node.status')).listenAddrs.find(x => x.startsWith(`/ip4/${a.addr}/tcp/`))!
  const carol2 = await start(c, 'carol', dirC, ['--bootstrap', aliceAddr])
  await waitFor(() => /bootstrap dial of \S+ failed/.test(carol2.stderr()), 'carol\'s bootstrap dial of alice to fail', BOOTSTRAP_WATCH_MS)
  // it reached alice and failed in the Noise handshake, not for want of a route
  assert.match(carol2.stderr(), /bootstrap dial of \S+ failed: EncryptionFailedError/)
  const watchEnd = Date.now() + BOOTSTRAP_WATCH_MS
  while (Date.now() < watchEnd) {
    for (const [s, others] of [[alice, [carol2]], [bob, [carol2]], [carol2, [alice, bob]], [dave, [alice, bob]]] as const) {
      const ids = (await s.client.call('peers.list')).peers.map(p => p.id)
      for (const o of others) assert.ok(!ids.includes(o.info.peerId), `${who.get(s.info.peerId)} lists ${who.get(o.info.peerId)} after the cross-mesh dial`)
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  // the failed dial harmed neither side: carol is still running and alice still has bob
  assert.equal(carol2.proc.exitCode, null, `carol exited after the failed dial; stderr:\n${carol2.stderr()}`)
  assert.equal((await carol2.client.call('node.status')).mesh.id, meshOf.get(carol))
  assert.ok((await alice.client.call('peers.list')).peers.some(p => p.id === bob.info.peerId && p.connected))
  assert.doesNotMatch(alice.stderr(), new RegExp(`member .* \\(${carol2.info.peerId}\\) connected`))
})
