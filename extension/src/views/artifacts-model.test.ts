import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Artifact, Peer, Transfer } from '../../../sidecar/src/gen/protocol-types.ts'
import { format } from '../l10n.ts'
import { ArtifactsModel } from './artifacts-model.ts'
import { checkTag, outputName, progressText, suggestTag, transferFailureText } from './artifacts-rows.ts'

const NOW = Date.parse('2026-11-24T12:00:00.000Z')
const BOB = '12D3KooWBobBobBobBobBobBob'
const CAROL = '12D3KooWCarolCarolCarolCarol'
const bob: Peer = { id: BOB, name: 'bob', addrs: [], connected: true, connection: 'direct', rttMs: 2, lastSeen: '2026-11-24T12:00:00.000Z' }
const hex = (c: string): string => c.repeat(64)

const web: Artifact = { id: hex('a'), tag: 'web-dist@main', size: 12_300_000, files: 42, createdAt: '2026-11-24T11:50:00.000Z', local: true, complete: true, pinned: true, mine: true, holders: [] }
const docs: Artifact = { id: hex('b'), tag: 'docs', size: 2_000_000, files: 1, createdAt: '2026-11-24T11:00:00.000Z', local: false, complete: false, pinned: false, mine: false, holders: [{ peer: BOB, name: 'bobby', complete: true }, { peer: CAROL, name: null, complete: false }] }
const untagged: Artifact = { id: hex('c'), tag: null, size: 999, files: 3, createdAt: '2026-11-24T11:55:00.000Z', local: true, complete: true, pinned: false, mine: false, holders: [] }
const gone: Artifact = { id: hex('d'), tag: 'old', size: 10, files: 1, createdAt: '2026-11-20T11:55:00.000Z', local: false, complete: false, pinned: false, mine: false, holders: [] }

function transfer (over: Partial<Transfer>): Transfer {
  return { id: 't1', kind: 'fetch', state: 'running', artifact: docs.id, tag: 'docs', path: '/tmp/out', bytesTotal: 2_000_000, bytesDone: 500_000, bytesFromPeers: 500_000, chunksTotal: 8, chunksDone: 2, rateBytesPerSec: 1_500_000, etaMs: 1000, peers: [{ peer: BOB, name: 'bobby', bytes: 500_000, chunks: 2, rateBytesPerSec: 1_500_000, inFlight: 2, state: 'active', reason: null }], startedAt: '2026-11-24T11:59:59.000Z', finishedAt: null, error: null, ...over }
}

function loaded (artifacts = [web, docs, untagged, gone], transfers: Transfer[] = []): ArtifactsModel {
  const m = new ArtifactsModel()
  m.setSnapshot({ artifacts, transfers })
  return m
}

test('rows: published here, then in the mesh; newest first; size, files, holders online', () => {
  const groups = loaded().rows(format, [bob], NOW)
  assert.deepEqual(groups.map(g => [g.label, g.description]), [['Published here', '1 artifact'], ['In the mesh', '3 artifacts']])
  const [mine, mesh] = groups
  assert.equal(mine.artifacts[0].label, 'web-dist@main')
  assert.equal(mine.artifacts[0].description, '12 MB · 42 files · on no other machine yet')
  assert.equal(mine.artifacts[0].contextValue, 'meshlink.artifact.mine.local.pinned', 'published artifacts are pinned: Unpin, not Pin')
  assert.equal(mine.artifacts[0].icon, 'mine')
  assert.deepEqual(mesh.artifacts.map(r => r.label), [shortId('c'), 'docs', 'old'])
  const [u, d, o] = mesh.artifacts
  assert.equal(u.description, '999 B · 3 files · here · 0 holders online')
  assert.equal(u.contextValue, 'meshlink.artifact.theirs.local', 'a fetched, unpinned artifact: Pin')
  assert.equal(u.icon, 'here')
  assert.equal(d.description, '2.0 MB · 1 file · 1 holder online, 1 fetching')
  assert.equal(d.holdersOnline, 1)
  assert.equal(d.contextValue, 'meshlink.artifact.theirs')
  assert.equal(d.icon, 'available')
  assert.match(d.tooltip, /Held by: bob, 12D3KooW…lCarol \(fetching\)/, 'names from the Peers list first, the announced name next')
  assert.match(d.tooltip, new RegExp(`Artifact id: \`${docs.id}\``))
  assert.equal(o.icon, 'unavailable')
  assert.match(o.tooltip, /No member that holds it is online/)
})

const shortId = (c: string): string => c.repeat(12)

test('rows: several builds under one tag show their short ids; markdown in tags is escaped', () => {
  const older = { ...web, id: hex('e'), createdAt: '2026-11-23T11:50:00.000Z', holders: [{ peer: BOB, name: 'bob', complete: true }] }
  const [mine] = loaded([web, older]).rows(format, [], NOW)
  assert.deepEqual(mine.artifacts.map(r => r.description), [`${shortId('a')} · 12 MB · 42 files · on no other machine yet`, `${shortId('e')} · 12 MB · 42 files · 1 holder online`])
  assert.match(mine.artifacts[0].tooltip, /^\*\*web\\-dist@main\*\*/)
})

test('a running fetch shows on its artifact; progress events advance it; done adds the artifact here', () => {
  const m = loaded([docs])
  let changes = 0
  m.onDidChange(() => changes++)
  m.track(transfer({ bytesDone: 0 }))
  assert.equal(m.rows(format, [], NOW)[0].artifacts[0].description, '2.0 MB · 1 file · fetching 0%')
  assert.equal(m.rows(format, [], NOW)[0].artifacts[0].contextValue, 'meshlink.artifact.theirs.busy')
  assert.deepEqual(m.applyEvent({ event: 'transfer.progress', data: { transfer: transfer({}) } }), { refresh: false })
  assert.equal(m.rows(format, [], NOW)[0].artifacts[0].description, '2.0 MB · 1 file · fetching 25%')
  // an older progress event arriving late does not move it back
  m.applyEvent({ event: 'transfer.progress', data: { transfer: transfer({ bytesDone: 100 }) } })
  assert.equal(m.transfer('t1')?.bytesDone, 500_000)
  const fetched = { ...docs, local: true, complete: true }
  const done = transfer({ state: 'done', bytesDone: 2_000_000, finishedAt: '2026-11-24T12:00:01.000Z' })
  const out = m.applyEvent({ event: 'transfer.done', data: { transfer: done, artifact: fetched } })
  assert.equal(out.ended?.state, 'done')
  assert.equal(m.result('t1')?.complete, true)
  assert.equal(m.running.length, 0)
  // a snapshot taken before the end does not revive it
  m.setSnapshot({ artifacts: [fetched], transfers: [transfer({})] })
  assert.equal(m.transfer('t1')?.state, 'done')
  const row = m.rows(format, [], NOW)[0].artifacts[0]
  assert.equal(row.description, '2.0 MB · 1 file · here · 1 holder online, 1 fetching')
  assert.equal(row.contextValue, 'meshlink.artifact.theirs.local')
  assert.equal(changes, 4, "the late progress event changed nothing")
})

test('a publish still reading its tree shows under Published here; failed and cancelled end it', () => {
  const m = loaded([])
  m.track(transfer({ id: 'p1', kind: 'publish', artifact: null, tag: null, path: '/work/app/dist', bytesTotal: 0, bytesDone: 0, peers: [] }))
  const [g] = m.rows(format, [], NOW)
  assert.equal(g.label, 'Published here')
  assert.equal(g.artifacts[0].label, 'dist')
  assert.equal(g.artifacts[0].description, 'Reading the folder…')
  assert.equal(g.artifacts[0].id, 'transfer:p1')
  const failed = transfer({ id: 'p1', kind: 'publish', artifact: null, state: 'failed', error: { code: 'NOT_FOUND', message: 'no such directory' } })
  assert.equal(m.applyEvent({ event: 'transfer.failed', data: { transfer: failed } }).ended?.error?.code, 'NOT_FOUND')
  assert.equal(m.rows(format, [], NOW).length, 0)
})

test('artifact events: updated adds or changes holders, removed goes; mesh.changed keeps only what is here', () => {
  const m = loaded([])
  m.applyEvent({ event: 'artifact.updated', data: { artifact: docs } })
  assert.equal(m.rows(format, [], NOW)[0].artifacts[0].holdersOnline, 1)
  m.applyEvent({ event: 'artifact.updated', data: { artifact: { ...docs, holders: [] } } })
  assert.equal(m.rows(format, [], NOW)[0].artifacts[0].description, '2.0 MB · 1 file · 0 holders online')
  m.applyEvent({ event: 'artifact.removed', data: { id: docs.id } })
  assert.equal(m.rows(format, [], NOW).length, 0)
  m.applyEvent({ event: 'artifact.updated', data: { artifact: docs } })
  m.applyEvent({ event: 'artifact.updated', data: { artifact: web } })
  assert.deepEqual(m.applyEvent({ event: 'mesh.changed', data: { mesh: { id: '0123456789abcdef', name: 'other', personal: false, createdAt: '2026-11-24T11:00:00.000Z' } } }), { refresh: true })
  assert.deepEqual(m.all.map(a => a.id), [web.id])
  assert.deepEqual(m.applyEvent({ event: 'service.updated', data: { service: { host: BOB, hostName: 'bob', name: 'x', port: 1, allow: null, online: true, mine: false } } }), { refresh: false }, 'other capabilities are ignored')
})

test('find: by id, by tag (newest), by unique prefix; reset forgets and bumps the generation', () => {
  const older = { ...web, id: 'ab' + hex('0').slice(2), createdAt: '2026-11-01T00:00:00.000Z' }
  const m = loaded([web, older, docs])
  assert.equal(m.find(web.id)?.id, web.id)
  assert.equal(m.find('web-dist@main')?.id, web.id)
  assert.equal(m.find('bbbbbbbb')?.id, docs.id)
  assert.equal(m.find('aaaa'), undefined, 'prefixes need 8 digits')
  const g = m.generation
  m.reset()
  assert.equal(m.all.length, 0)
  assert.equal(m.ready, false)
  assert.equal(m.generation, g + 1)
})

test('progress text: percent, rate, ETA, the peers it comes from', () => {
  assert.equal(progressText(transfer({}), format), '25% of 2.0 MB · 1.5 MB/s · 1 s left · from bobby')
  assert.equal(progressText(transfer({}), format, id => (id === BOB ? 'bob' : id)), '25% of 2.0 MB · 1.5 MB/s · 1 s left · from bob')
  assert.equal(progressText(transfer({ peers: [], rateBytesPerSec: 0, etaMs: null, bytesDone: 0 }), format), '0% of 2.0 MB · looking for holders')
  const stalledBob = { peer: BOB, name: 'bobby', bytes: 500_000, chunks: 2, rateBytesPerSec: 0, inFlight: 2, state: 'active' as const, reason: null }
  const carol = { peer: CAROL, name: 'carol', bytes: 0, chunks: 0, rateBytesPerSec: 0, inFlight: 0, state: 'idle' as const, reason: null }
  assert.equal(progressText(transfer({ rateBytesPerSec: 0, etaMs: null, peers: [stalledBob, carol] }), format), '25% of 2.0 MB · waiting for bobby', 'a stall names the holder it waits for')
  assert.equal(progressText(transfer({ rateBytesPerSec: 800_000, peers: [stalledBob, { ...carol, state: 'active', chunks: 3, inFlight: 2, rateBytesPerSec: 800_000 }] }), format), '25% of 2.0 MB · 800 KB/s · 1 s left · from bobby, carol', 'while bytes still come, it says where from')
  assert.equal(progressText(transfer({ etaMs: 200_000 }), format), '25% of 2.0 MB · 1.5 MB/s · 3 min left · from bobby')
  assert.equal(progressText(transfer({ kind: 'publish', bytesTotal: 0, bytesDone: 0 }), format), 'Reading the folder…')
  assert.equal(progressText(transfer({ kind: 'publish', bytesTotal: 10_000_000, bytesDone: 5_000_000, rateBytesPerSec: 0 }), format), '50% of 10 MB · 1 s left')
})

test('failure texts name what happened for each code', () => {
  assert.match(transferFailureText('UNSAFE_MANIFEST', 'fetch', format), /"\.\."/)
  assert.match(transferFailureText('NO_SPACE', 'fetch', format), /disk is full; nothing was left/)
  assert.match(transferFailureText('CONFLICT', 'fetch', format), /not empty/)
  assert.match(transferFailureText('NOT_FOUND', 'publish', format), /folder is gone/)
  assert.match(transferFailureText('PEER_UNREACHABLE', 'fetch', format), /offline/)
})

test('tags: suggestions, checks; output folder names', () => {
  assert.equal(suggestTag('/home/ada/app/dist', 'app'), 'app-dist')
  assert.equal(suggestTag('/home/ada/app/site assets', 'app'), 'site-assets')
  assert.equal(suggestTag('/', undefined), '')
  assert.equal(checkTag('', format), undefined)
  assert.equal(checkTag('web-dist@main/feature', format), undefined)
  assert.ok(checkTag('-bad', format))
  assert.ok(checkTag('a b', format))
  assert.equal(outputName({ id: hex('a'), tag: 'web@feat/x' }), 'web@feat-x')
  assert.equal(outputName({ id: hex('a'), tag: null }), `artifact-${shortId('a')}`)
})
