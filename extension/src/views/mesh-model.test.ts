import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { NodeStatusResult, Peer } from '../../../sidecar/src/gen/protocol-types.ts'
import { format } from '../l10n.ts'
import { ago, MeshModel, shortPeerId } from './mesh-model.ts'

const NOW = Date.parse('2026-11-24T12:00:00.000Z')
const mesh = { id: 'm1', name: 'team', personal: false, createdAt: '2026-11-01T00:00:00.000Z' }
const status: NodeStatusResult = {
  peerId: '12D3KooWSelfSelfSelfSelf', name: 'ada@box', mesh, listenAddrs: ['/ip4/127.0.0.1/tcp/4455/p2p/12D3KooWSelf'], observedAddrs: [],
  version: '0.1.0', protocolVersion: 1, uptimeMs: 1, pid: 1, stateDir: '/s', mdns: false, peersConnected: 1
}
const bob: Peer = { id: '12D3KooWBobBobBobBobBobBob', name: 'bob', addrs: ['/ip4/10.0.0.2/tcp/4455'], connected: true, connection: 'direct', rttMs: 3.4, lastSeen: '2026-11-24T12:00:00.000Z' }
const carol: Peer = { id: '12D3KooWCarolCarolCarol', name: null, addrs: [], connected: false, connection: null, rttMs: null, lastSeen: '2026-11-24T11:55:00.000Z' }
const dan: Peer = { id: '12D3KooWDanDanDanDanDan', name: 'dan', addrs: ['/ip4/1.2.3.4/tcp/1/p2p-circuit'], connected: true, connection: 'relayed', rttMs: null, lastSeen: null }

function running (peers: Peer[] = [bob, carol, dan]): MeshModel {
  const m = new MeshModel()
  m.setPhase('running')
  m.setSnapshot(status, peers)
  return m
}

test('rows: online first, then by name; descriptions say direct/relayed, RTT, or when last seen', () => {
  const rows = running().rows(format, NOW)
  assert.deepEqual(rows.map(r => r.label), ['bob', 'dan', shortPeerId(carol.id)])
  assert.deepEqual(rows.map(r => r.description), ['direct · 3 ms', 'relayed', 'offline · seen 5 min ago'])
  assert.deepEqual(rows.map(r => r.icon), ['direct', 'relayed', 'offline'])
  assert.deepEqual(rows.map(r => r.contextValue), ['meshlink.peer.online', 'meshlink.peer.online', 'meshlink.peer.offline'])
})

test('rows: the tooltip carries the peer id and addresses, with the name escaped', () => {
  const m = running([{ ...bob, name: 'bob*[x](y)' }])
  const tip = m.rows(format, NOW)[0].tooltip
  assert.match(tip, /\*\*bob\\\*\\\[x\\\]\\\(y\\\)\*\*/)
  assert.match(tip, /`12D3KooWBobBobBobBobBobBob`/)
  assert.match(tip, /- `\/ip4\/10\.0\.0\.2\/tcp\/4455`/)
})

test('events: a connect, an update and a disconnect change the row; mesh.changed asks for a refresh', () => {
  const m = running([])
  let changes = 0
  m.onDidChange(() => changes++)
  assert.equal(m.applyEvent({ event: 'peer.connected', data: { peer: bob } }), false)
  assert.equal(m.rows(format, NOW)[0].description, 'direct · 3 ms')
  m.applyEvent({ event: 'peer.updated', data: { peer: { ...bob, name: 'robert' } } })
  assert.equal(m.rows(format, NOW)[0].label, 'robert')
  m.applyEvent({ event: 'peer.disconnected', data: { peer: { ...bob, connected: false, connection: null } } })
  assert.equal(m.rows(format, NOW)[0].online, false)
  assert.equal(m.status!.peersConnected, 0)
  m.applyEvent({ event: 'node.name', data: { name: 'ada2' } })
  assert.equal(m.status!.name, 'ada2')
  assert.equal(m.applyEvent({ event: 'mesh.changed', data: { mesh: { ...mesh, id: 'm2', name: 'other' } } }), true)
  assert.equal(m.mesh!.name, 'other')
  assert.equal(m.peers.length, 0)
  assert.equal(m.applyEvent({ event: 'transfer.progress' as 'peer.connected', data: {} as never }), false)
  assert.equal(changes, 5)
})

test('status bar: mesh name and members online, or why the sidecar is not there', () => {
  const m = running()
  assert.deepEqual(m.statusBar(format), { text: '$(radio-tower) team · 2/3', tooltip: 'MeshLink mesh "team": 2 of 3 members online. Click to open the Peers view.', severity: 'normal' })
  m.setPhase('restarting', 'Restarting in 1 s (attempt 1).')
  assert.equal(m.statusBar(format).severity, 'warning')
  assert.match(m.statusBar(format).tooltip, /Restarting in 1 s/)
  assert.equal(m.peers.length, 0, 'no stale members while the sidecar is away')
  m.setPhase('failed', 'boom')
  assert.match(m.statusBar(format).text, /sidecar down/)
  assert.equal(m.statusBar(format).severity, 'error')
  const alone = running([])
  alone.setSnapshot({ ...status, mesh: { ...mesh, personal: true } }, [])
  assert.match(alone.statusBar(format).text, /no shared mesh/)
  const fresh = new MeshModel()
  assert.match(fresh.statusBar(format).text, /sidecar down/)
  fresh.setPhase('starting')
  assert.equal(fresh.statusBar(format).text, '$(sync~spin) MeshLink')
})

test('graph: this node, every member, an edge per open connection labelled with RTT and kind', () => {
  const g = running().graph(format)
  assert.deepEqual(g.self, { id: status.peerId, label: 'ada@box (you)' })
  assert.equal(g.nodes.length, 3)
  assert.deepEqual(g.edges.map(e => [e.to, e.connection, e.label]), [[bob.id, 'direct', 'direct · 3 ms'], [dan.id, 'relayed', 'relayed']])
  assert.deepEqual(new MeshModel().graph(format).self, null)
})

test('ago', () => {
  assert.equal(ago('2026-11-24T11:59:30.000Z', NOW, format), 'just now')
  assert.equal(ago('2026-11-24T09:00:00.000Z', NOW, format), '3 h ago')
  assert.equal(ago('2026-11-20T12:00:00.000Z', NOW, format), '4 days ago')
})
