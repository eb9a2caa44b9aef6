import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Forward, Peer, Service } from '../../../sidecar/src/gen/protocol-types.ts'
import { format } from '../l10n.ts'
import { ServicesModel } from './services-model.ts'
import { bytes, forwardAddress, forwardUrl, type Directory } from './services-rows.ts'

const NOW = Date.parse('2026-11-24T12:00:00.000Z')
const SELF = '12D3KooWSelfSelfSelfSelf'
const BOB = '12D3KooWBobBobBobBobBobBob'
const CAROL = '12D3KooWCarolCarolCarolCarol'
const bob: Peer = { id: BOB, name: 'bob', addrs: [], connected: true, connection: 'direct', rttMs: 2, lastSeen: '2026-11-24T12:00:00.000Z' }
const carol: Peer = { id: CAROL, name: 'carol', addrs: [], connected: false, connection: null, rttMs: null, lastSeen: '2026-11-24T11:00:00.000Z' }
const dir: Directory = { self: { id: SELF, name: 'ada' }, peers: [bob, carol] }

const mineWeb: Service = { host: SELF, hostName: 'ada', name: 'web', port: 3000, allow: null, online: true, mine: true, target: '127.0.0.1:3000' }
const mineApi: Service = { host: SELF, hostName: 'ada', name: 'api', port: 8080, allow: [BOB, CAROL], online: true, mine: true, target: '0.0.0.0:8080' }
const bobDocs: Service = { host: BOB, hostName: 'bob', name: 'docs', port: 4000, allow: null, online: true, mine: false }
const bobAdmin: Service = { host: BOB, hostName: 'bob', name: 'admin', port: 9000, allow: [CAROL], online: true, mine: false }
const carolDb: Service = { host: CAROL, hostName: null, name: 'db', port: 5432, allow: [SELF], online: false, mine: false }
const fwd: Forward = { id: 'f1', peer: BOB, peerName: 'bob', service: 'docs', localAddress: '127.0.0.1', localPort: 4000, connections: 2, totalConnections: 7, bytesIn: 12_345, bytesOut: 678, openedAt: '2026-11-24T11:59:00.000Z' }

function loaded (services = [mineWeb, mineApi, bobDocs, bobAdmin, carolDb], forwards: Forward[] = [fwd], catchUpMs = 8000): ServicesModel {
  const m = new ServicesModel({ catchUpMs })
  m.setSnapshot({ services, forwards, selfId: SELF, connected: [BOB] }, NOW - 60_000)
  return m
}

test('rows: grouped by host, this machine first, then online members, then offline; services by name', () => {
  const hosts = loaded().rows(format, dir, NOW)
  assert.deepEqual(hosts.map(h => h.label), ['ada (you)', 'bob', 'carol'])
  assert.deepEqual(hosts.map(h => h.description), ['2 services', 'online · 2 services', 'offline · 1 service'])
  assert.deepEqual(hosts.map(h => h.contextValue), ['meshlink.host.mine', 'meshlink.host.online', 'meshlink.host.offline'])
  assert.deepEqual(hosts.map(h => h.services.map(s => s.name)), [['api', 'web'], ['admin', 'docs'], ['db']])
})

test('rows: port, access, state and context values', () => {
  const [me, b, c] = loaded().rows(format, dir, NOW)
  const [api, web] = me.services
  assert.equal(web.description, ':3000 · everyone')
  const byPort = loaded([{ ...mineWeb, name: '3000' }], []).rows(format, dir, NOW)[0].services[0]
  assert.equal(byPort.description, 'everyone', 'named after its port: not repeated')
  assert.equal(api.description, ':8080 · 2 allowed')
  assert.equal(web.contextValue, 'meshlink.service.mine')
  assert.equal(web.icon, 'mine')
  const [admin, docs] = b.services
  assert.equal(docs.description, ':4000 · everyone')
  assert.equal(docs.contextValue, 'meshlink.service.theirs.online.open', 'a forward is open')
  assert.equal(admin.description, ':9000 · not allowed for you')
  assert.equal(admin.allowed, false)
  assert.equal(admin.contextValue, 'meshlink.service.theirs.forbidden')
  const [db] = c.services
  assert.equal(db.description, ':5432 · 1 allowed · offline')
  assert.equal(db.allowed, true, 'carol allows this node by id')
  assert.equal(db.contextValue, 'meshlink.service.theirs.offline')
  assert.equal(db.icon, 'offline')
})

test('rows: tooltips name the host, the access list by name, the target; markdown is escaped', () => {
  const [me, b] = loaded([mineApi, { ...bobDocs, name: 'd*cs' }], []).rows(format, dir, NOW)
  assert.match(me.services[0].tooltip, /\*\*api\*\* on ada/)
  assert.match(me.services[0].tooltip, /Access: bob, carol/)
  assert.match(me.services[0].tooltip, /carried to 0\.0\.0\.0:8080/)
  assert.match(b.services[0].tooltip, /\*\*d\\\*cs\*\* on bob/)
  assert.match(b.services[0].tooltip, /every member of the mesh/)
  assert.match(b.tooltip, new RegExp(BOB))
})

test('forwards: under their service, with local address, connection count; the URL once HTTP is known', () => {
  const m = loaded()
  let row = m.rows(format, dir, NOW)[1].services[1].forwards[0]
  assert.equal(row.label, '127.0.0.1:4000')
  assert.equal(row.address, '127.0.0.1:4000')
  assert.equal(row.description, '2 connections')
  assert.equal(row.url, undefined)
  assert.match(row.tooltip, /total: 7/)
  assert.match(row.tooltip, /Received: 12 KB · sent: 678 B/)
  m.setKind('f1', 'http')
  row = m.rows(format, dir, NOW)[1].services[1].forwards[0]
  assert.equal(row.label, '127.0.0.1:4000')
  assert.equal(row.description, 'http · 2 connections')
  assert.equal(row.url, 'http://127.0.0.1:4000/')
  assert.match(row.tooltip, /^\*\*http:\/\/127\\\.0\\\.0\\\.1:4000\/\*\*/, 'the URL heads the tooltip')
})

test('forward events: opened, failed (reason shown), closed by someone else is reported, closed by the user is not', () => {
  const m = loaded([bobDocs], [])
  let changes = 0
  m.onDidChange(() => changes++)
  m.applyEvent({ event: 'forward.opened', data: { forward: fwd } }, NOW)
  assert.equal(m.rows(format, dir, NOW)[0].services[0].forwards.length, 1)
  const failed = m.applyEvent({ event: 'forward.failed', data: { forward: { ...fwd, connections: 1 }, code: 'TARGET_UNREACHABLE', reason: 'connect ECONNREFUSED 127.0.0.1:4000' } }, NOW)
  assert.equal(failed.failed?.code, 'TARGET_UNREACHABLE')
  const row = m.rows(format, dir, NOW)[0].services[0].forwards[0]
  assert.equal(row.description, '1 connection · last failed: nothing answers on the host\'s port (is the server running?)')
  assert.equal(row.icon, 'forwardFailed')
  assert.match(row.tooltip, /ECONNREFUSED/)
  assert.deepEqual(m.applyEvent({ event: 'forward.closed', data: { forward: fwd, reason: 'closed' } }, NOW), { refresh: false })
  m.applyEvent({ event: 'forward.opened', data: { forward: fwd } }, NOW)
  const gone = m.applyEvent({ event: 'forward.closed', data: { forward: fwd, reason: 'the host stopped sharing "docs"' } }, NOW)
  assert.equal(gone.closed?.reason, 'the host stopped sharing "docs"')
  assert.equal(m.openForwards.length, 0)
  assert.equal(changes, 5)
})

test('a forward whose service is not announced still shows under its host', () => {
  const hosts = loaded([], [fwd]).rows(format, dir, NOW)
  assert.equal(hosts.length, 1)
  assert.equal(hosts[0].label, 'bob')
  assert.equal(hosts[0].services[0].description, 'not announced')
  assert.equal(hosts[0].services[0].forwards[0].id, 'f1')
})

test('service events: updated adds or changes, offline shows, removed goes; names follow the directory', () => {
  const m = loaded([], [])
  m.applyEvent({ event: 'service.updated', data: { service: bobDocs } }, NOW)
  assert.equal(m.rows(format, dir, NOW)[0].services[0].description, ':4000 · everyone')
  m.applyEvent({ event: 'service.updated', data: { service: { ...bobDocs, online: false } } }, NOW)
  const renamed: Directory = { ...dir, peers: [{ ...bob, name: 'robert', connected: false }] }
  const [h] = m.rows(format, renamed, NOW)
  assert.equal(h.label, 'robert')
  assert.equal(h.online, false)
  assert.equal(h.services[0].description, ':4000 · everyone · offline')
  m.applyEvent({ event: 'service.removed', data: { service: bobDocs } }, NOW)
  assert.equal(m.rows(format, dir, NOW).length, 0)
})

test('refusals of my services show in the tooltip', () => {
  const m = loaded([mineApi], [])
  const o = m.applyEvent({ event: 'service.refused', data: { service: 'api', peer: CAROL, reason: 'not allowed' } }, NOW)
  assert.equal(o.refused?.peer, CAROL)
  assert.match(m.rows(format, dir, NOW)[0].services[0].tooltip, /Last refused: carol, not allowed/)
})

test('announce: a teammate sharing something new, not what existed when the window attached', () => {
  const m = new ServicesModel({ catchUpMs: 8000 })
  // before the first snapshot: whatever arrives is catching up
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: bobDocs } }, NOW).announce, undefined)
  m.setSnapshot({ services: [bobDocs], forwards: [], selfId: SELF, connected: [BOB] }, NOW)
  // already known: no
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: { ...bobDocs, port: 4001 } } }, NOW + 20_000).announce, undefined)
  // new, but bob came online (or the window attached) moments ago: the announcement of what exists
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: { ...bobDocs, name: 'early' } } }, NOW + 1000).announce, undefined)
  // new, after the catch-up period: yes
  const web = { ...bobDocs, name: 'web', port: 5173 }
  assert.deepEqual(m.applyEvent({ event: 'service.updated', data: { service: web } }, NOW + 9000).announce, web)
  // not for me: no
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: { ...bobAdmin, name: 'secret' } } }, NOW + 9000).announce, undefined)
  // my own: no
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: { ...mineWeb, name: 'mine2' } } }, NOW + 9000).announce, undefined)
  // removed and shared again: yes
  m.applyEvent({ event: 'service.removed', data: { service: web } }, NOW + 10_000)
  assert.ok(m.applyEvent({ event: 'service.updated', data: { service: web } }, NOW + 10_000).announce)
})

test('announce: a member that connects announces what it shares; only later shares are news', () => {
  const m = new ServicesModel({ catchUpMs: 8000 })
  m.setSnapshot({ services: [], forwards: [], selfId: SELF, connected: [] }, NOW)
  m.applyEvent({ event: 'peer.connected', data: { peer: carol } }, NOW + 30_000)
  const existing = { ...carolDb, online: true }
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: existing } }, NOW + 30_500).announce, undefined)
  assert.ok(m.applyEvent({ event: 'service.updated', data: { service: { ...existing, name: 'db2' } } }, NOW + 40_000).announce)
  // it goes offline and comes back: its services are announced again, not news
  m.applyEvent({ event: 'peer.disconnected', data: { peer: carol } }, NOW + 50_000)
  m.applyEvent({ event: 'service.removed', data: { service: { ...existing, name: 'db2' } } }, NOW + 50_000)
  // the announcement may even arrive before peer.connected
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: { ...existing, name: 'db3' } } }, NOW + 60_000).announce, undefined)
  m.applyEvent({ event: 'peer.connected', data: { peer: carol } }, NOW + 60_100)
  assert.equal(m.applyEvent({ event: 'service.updated', data: { service: { ...existing, name: 'db2' } } }, NOW + 61_000).announce, undefined)
})

test('mesh.changed clears and asks for a refresh; reset forgets everything', () => {
  const m = loaded()
  assert.equal(m.applyEvent({ event: 'mesh.changed', data: { mesh: { id: 'x', name: 'x', personal: false, createdAt: '2026-11-24T12:00:00.000Z' } } }, NOW).refresh, true)
  assert.equal(m.rows(format, dir, NOW).length, 0)
  const n = loaded()
  n.reset()
  assert.equal(n.ready, false)
  assert.equal(n.rows(format, dir, NOW).length, 0)
  assert.deepEqual(n.applyEvent({ event: 'transfer.progress' as 'service.updated', data: {} as never }, NOW), { refresh: false })
})

test('addresses, URLs and byte counts', () => {
  assert.equal(forwardAddress({ localAddress: '::1', localPort: 80 }), '[::1]:80')
  assert.equal(forwardAddress({ localAddress: '0.0.0.0', localPort: 80 }), '127.0.0.1:80')
  assert.equal(forwardUrl({ localAddress: '127.0.0.1', localPort: 8443 }, 'https'), 'https://127.0.0.1:8443/')
  assert.equal(forwardUrl({ localAddress: '127.0.0.1', localPort: 22 }, 'tcp'), undefined)
  assert.equal(bytes(999, format), '999 B')
  assert.equal(bytes(1_500, format), '1.5 KB')
  assert.equal(bytes(25_000_000, format), '25 MB')
})
