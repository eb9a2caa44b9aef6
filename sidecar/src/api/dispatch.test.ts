import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Dispatcher, type Handlers } from './dispatch.ts'
import { ApiError, toApiError } from './errors.ts'
import { InvalidInviteError } from '../mesh/invite.ts'
import { createLogger } from '../log/logger.ts'
import { MAX_REQUEST_BYTES } from './limits.ts'

const TOKEN = 'secret-token'
const log = createLogger({ level: 'error', stream: { write: () => true } })
const status = {
  peerId: '12D3KooWE375tVtuQRoyuvDUhkVdoYZRb3oheW9sJujMadWmXNZc', name: 'a@b',
  mesh: { id: '0123456789abcdef', name: 'm', personal: true, createdAt: '2026-11-24T00:00:00.000Z' },
  listenAddrs: [], observedAddrs: [], version: '0.1.0', protocolVersion: 1 as const, uptimeMs: 5, pid: 1, stateDir: '/x', mdns: false, peersConnected: 0
}
const notCalled = async (): Promise<never> => { throw new Error('not expected') }
const handlers: Handlers = {
  'node.status': async () => status,
  'node.setName': async ({ name }) => ({ name: name === 'broken' ? (42 as unknown as string) : name }),
  'node.shutdown': notCalled,
  'peers.list': async () => ({ peers: [] }),
  'peers.ping': async () => { throw new ApiError('NOT_FOUND', 'no such peer') },
  'mesh.create': notCalled,
  'mesh.invite': notCalled,
  'mesh.join': async () => { throw new InvalidInviteError('invite code is truncated') },
  'mesh.leave': async () => { throw new Error('disk on fire') },
  'services.share': notCalled,
  'services.unshare': notCalled,
  'services.list': notCalled,
  'forwards.open': notCalled,
  'forwards.close': notCalled,
  'forwards.list': notCalled,
  'artifacts.publish': notCalled,
  'artifacts.fetch': notCalled,
  'artifacts.list': notCalled,
  'artifacts.remove': notCalled,
  'artifacts.pin': notCalled,
  'transfers.list': notCalled,
  'transfers.cancel': notCalled,
  'store.status': notCalled,
  'store.configure': notCalled,
  'store.verify': notCalled
}
const d = new Dispatcher(TOKEN, handlers, log)
const send = (o: unknown) => d.dispatch(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)))
const req = (method: string, params?: unknown, extra: object = {}) => ({ v: 1, id: 7, token: TOKEN, method, ...(params === undefined ? {} : { params }), ...extra })
const code = async (o: unknown): Promise<string | undefined> => { const r = await send(o); return 'error' in r ? r.error.code : undefined }

test('a good request gets its result with the same id', async () => {
  assert.deepEqual(await send(req('node.status')), { v: 1, id: 7, result: status })
  assert.deepEqual(await send({ ...req('node.status'), id: 'abc' }), { v: 1, id: 'abc', result: status })
  assert.deepEqual(await send(req('node.setName', { name: 'x' })), { v: 1, id: 7, result: { name: 'x' } })
})

test('envelope errors map to their codes', async () => {
  assert.equal(await code('{"v":1,'), 'PARSE_ERROR')
  assert.equal(await code(Buffer.from([0xff, 0xfe]).toString('latin1')), 'PARSE_ERROR')
  assert.equal(await code('[1,2]'), 'INVALID_REQUEST')
  assert.equal(await code('null'), 'INVALID_REQUEST')
  assert.equal(await code({ ...req('node.status'), v: 2 }), 'UNSUPPORTED_VERSION')
  assert.equal(await code({ v: 1, token: TOKEN, method: 'node.status' }), 'INVALID_REQUEST')
  assert.equal(await code({ v: 1, id: 1, method: 'node.status' }), 'UNAUTHORIZED')
  assert.equal(await code({ ...req('node.status'), id: { x: 1 } }), 'INVALID_REQUEST')
  assert.equal(await code({ ...req('node.status'), extra: true }), 'INVALID_REQUEST')
  assert.equal(await code({ ...req('node.status'), method: 'NoDots' }), 'INVALID_REQUEST')
  assert.equal(await code({ ...req('node.status'), params: [] }), 'INVALID_REQUEST')
})

test('the token is checked before the method', async () => {
  assert.equal(await code({ ...req('node.status'), token: 'wrong' }), 'UNAUTHORIZED')
  assert.equal(await code({ ...req('no.such'), token: 'wrong' }), 'UNAUTHORIZED')
  const { token: _omit, ...noToken } = req('node.status')
  assert.equal(await code(noToken), 'UNAUTHORIZED')
  assert.equal(await code({ ...req('node.status'), token: 5 }), 'UNAUTHORIZED')
  assert.equal(await code({ ...req('node.status'), token: '' }), 'UNAUTHORIZED')
})

test('unknown methods and bad params are named', async () => {
  const r = await send(req('no.such'))
  assert.ok('error' in r && r.error.code === 'METHOD_NOT_FOUND' && r.error.message.includes('no.such'))
  const p = await send(req('node.setName', { name: 5 }))
  assert.ok('error' in p && p.error.code === 'INVALID_PARAMS' && (p.error.data as { path?: string } | undefined)?.path === '/params/name', JSON.stringify(p))
  const q = await send(req('node.setName', {}))
  assert.ok('error' in q && q.error.code === 'INVALID_PARAMS' && /missing required property "name"/.test(q.error.message))
  const u = await send(req('node.status', { bogus: 1 }))
  assert.ok('error' in u && u.error.code === 'INVALID_PARAMS' && /unknown property "bogus"/.test(u.error.message))
  assert.equal(await code(req('peers.ping', { peer: 'short' })), 'INVALID_PARAMS')
})

test('oversized requests are refused before parsing', async () => {
  const r = await d.dispatch(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20))
  assert.ok('error' in r && r.error.code === 'MESSAGE_TOO_LARGE' && (r.error.data as { limit?: number } | undefined)?.limit === MAX_REQUEST_BYTES)
})

test('handler errors map to codes; a result that breaks its schema is INTERNAL', async () => {
  assert.equal(await code(req('peers.ping', { peer: status.peerId })), 'NOT_FOUND')
  assert.equal(await code(req('mesh.join', { code: 'x' })), 'INVALID_INVITE')
  const leave = await send(req('mesh.leave'))
  assert.ok('error' in leave && leave.error.code === 'INTERNAL' && leave.error.message.includes('disk on fire'))
  const broken = await send(req('node.setName', { name: 'broken' }))
  assert.ok('error' in broken && broken.error.code === 'INTERNAL' && /invalid result/.test(broken.error.message))
})

test('toApiError maps library errors', () => {
  assert.equal(toApiError(new InvalidInviteError('x')).code, 'INVALID_INVITE')
  assert.equal(toApiError(Object.assign(new Error('t'), { name: 'TimeoutError' })).code, 'TIMEOUT')
  assert.equal(toApiError(Object.assign(new Error('no addrs'), { name: 'NoValidAddressesError' })).code, 'PEER_UNREACHABLE')
  assert.equal(toApiError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).code, 'PEER_UNREACHABLE')
  assert.equal(toApiError('weird').code, 'INTERNAL')
  const e = new ApiError('NOT_FOUND', 'gone', { id: 1 })
  assert.equal(toApiError(e), e)
  assert.deepEqual(e.toJSON(), { code: 'NOT_FOUND', message: 'gone', data: { id: 1 } })
})
