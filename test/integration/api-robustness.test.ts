// Bad input never hurts the sidecar: >= 1000 generated bad messages each get a clear error reply
// (or are dropped when no reply is possible), and a good request still works afterwards.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Dealer, Request } from 'zeromq'
import { startSidecar, removeStateDir, type SidecarProcess } from '../helpers/sidecar-process.ts'
import { MAX_REQUEST_BYTES, HARD_MAX_MESSAGE_BYTES } from '../../sidecar/src/api/limits.ts'
import { METHOD_NAMES } from '../../sidecar/src/gen/protocol-types.ts'
import * as validators from '../../sidecar/src/gen/validators.js'

let s: SidecarProcess
after(async () => { await s?.stop(); if (s) removeStateDir(s.stateDir) })

/** A small deterministic PRNG so a failure can be reproduced from its seed. */
function rng (seed: number): () => number {
  return () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 }
}

interface Case { frames: Buffer[], expect: string | null, label: string }

function generate (token: string, count: number, seed = 42): Case[] {
  const r = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
  const junkValues = [null, true, 0, -1, 1.5, '', 'x'.repeat(300), [], [1, 'a'], {}, { a: { b: 1 } }, 'ML1zzz']
  const good = (): Record<string, unknown> => ({ v: 1, id: Math.floor(r() * 1e6), token, method: pick(['node.status', 'peers.list']), params: {} })
  const gens: Array<() => Case> = [
    () => { const s = JSON.stringify(good()); return { frames: [Buffer.from(s.slice(0, Math.floor(r() * (s.length - 1))))], expect: 'PARSE_ERROR', label: 'truncated JSON' } },
    () => ({ frames: [Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256)))], expect: null, label: 'random bytes' }),
    () => {
      const v = pick(junkValues)
      const isObject = typeof v === 'object' && v !== null && !Array.isArray(v)
      return { frames: [Buffer.from(JSON.stringify(v))], expect: isObject ? 'UNAUTHORIZED' : 'INVALID_REQUEST', label: 'JSON that is not a request' }
    },
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), token: pick(['', 'wrong', token + 'x', 'a'.repeat(256)]) }))], expect: null, label: 'wrong token' }),
    () => { const g = good(); delete g.token; return { frames: [Buffer.from(JSON.stringify(g))], expect: 'UNAUTHORIZED', label: 'missing token' } },
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), method: pick(['nope.nope', 'node.statuss', 'peers.listAll', 'a.b.c', 'constructor.prototype', 'toString.call']) }))], expect: 'METHOD_NOT_FOUND', label: 'unknown method' }),
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), method: pick([5, '', 'x', '.a', '__proto__', 'node.status.', 'node..status', 'x'.repeat(70) + '.y']) }))], expect: 'INVALID_REQUEST', label: 'malformed method' }),
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), v: pick([0, 2, 99]) }))], expect: 'UNSUPPORTED_VERSION', label: 'other protocol version' }),
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), id: pick([null, {}, [], 1.5, '', 'x'.repeat(200)]) }))], expect: 'INVALID_REQUEST', label: 'bad id' }),
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), params: pick([[], 'x', 5, null]) }))], expect: 'INVALID_REQUEST', label: 'params not an object' }),
    () => {
      const method = pick(METHOD_NAMES.filter(m => m !== 'node.shutdown' && m !== 'mesh.leave' && m !== 'mesh.create'))
      const params = pick([{ bogus: pick(junkValues) }, { name: pick(junkValues) }, { peer: pick(junkValues) }, { code: pick([5, null, [], {}]) }])
      return { frames: [Buffer.from(JSON.stringify({ v: 1, id: 1, token, method, params }))], expect: 'INVALID_PARAMS', label: `bad params for ${method}` }
    },
    () => ({ frames: [Buffer.from(JSON.stringify({ ...good(), method: 'mesh.join', params: { code: pick(['', 'garbage', 'ML1', 'ML2abc', 'ML1' + '1'.repeat(80)]) } }))], expect: null, label: 'bad invite code' }),
    () => ({ frames: [Buffer.from(JSON.stringify(good())), Buffer.from('extra'), Buffer.from('frames')], expect: 'INVALID_REQUEST', label: 'too many frames' }),
    () => ({ frames: [Buffer.alloc(0)], expect: 'PARSE_ERROR', label: 'empty frame' })
  ]
  return Array.from({ length: count }, () => pick(gens)())
}

test('1000+ generated bad messages each get a clear error, and the sidecar keeps serving', async () => {
  s = await startSidecar({ name: 'target' })
  const before = (await s.client.call('node.status')).peerId
  const dealer = new Dealer({ linger: 0, receiveTimeout: 10_000 })
  dealer.connect(s.info.router)
  try {
    const cases = generate(s.info.token, 1200)
    const counts = new Map<string, number>()
    const window = 1 // replies come back in completion order, not request order: one at a time keeps the pairing exact
    for (let i = 0; i < cases.length; i += window) {
      const batch = cases.slice(i, i + window)
      for (const c of batch) await dealer.send(c.frames)
      for (const c of batch) {
        const [reply] = await dealer.receive()
        const msg = JSON.parse(reply.toString())
        assert.ok(validators.response(msg), `reply to "${c.label}" breaks the response schema: ${reply}`)
        assert.ok('error' in msg, `"${c.label}" was accepted: ${reply}`)
        assert.ok(typeof msg.error.message === 'string' && msg.error.message.length > 5, 'an error names the problem')
        if (c.expect) assert.equal(msg.error.code, c.expect, `${c.label}: ${reply}`)
        if (c.label === 'wrong token') assert.equal(msg.error.code, 'UNAUTHORIZED')
        if (c.label === 'bad invite code') assert.ok(['INVALID_INVITE', 'INVALID_PARAMS'].includes(msg.error.code), reply.toString())
        counts.set(msg.error.code, (counts.get(msg.error.code) ?? 0) + 1)
      }
    }
    assert.ok([...counts.values()].reduce((a, b) => a + b) >= 1000)
    assert.ok(counts.size >= 7, `variety of error codes: ${[...counts.keys()]}`)
  } finally {
    dealer.close()
  }
  assert.equal((await s.client.call('node.status')).peerId, before)
})

test('oversized messages: over the soft limit get MESSAGE_TOO_LARGE; over the hard limit the peer is dropped', async () => {
  const dealer = new Dealer({ linger: 0, receiveTimeout: 10_000 })
  dealer.connect(s.info.router)
  try {
    await dealer.send(Buffer.alloc(MAX_REQUEST_BYTES + 10, 0x41))
    const [reply] = await dealer.receive()
    const msg = JSON.parse(reply.toString())
    assert.equal(msg.error.code, 'MESSAGE_TOO_LARGE')
    assert.match(msg.error.message, /limit/)
  } finally { dealer.close() }
  const big = new Dealer({ linger: 0, receiveTimeout: 1500 })
  big.connect(s.info.router)
  try {
    await big.send(Buffer.alloc(HARD_MAX_MESSAGE_BYTES + 1, 0x41))
    await assert.rejects(big.receive(), /timed out|Socket timed out|EAGAIN/i, 'no reply past the hard limit')
  } finally { big.close() }
  assert.equal((await s.client.call('node.status')).name, 'target')
})

test('REQ sockets (delimited frames) are answered in kind; the protocol works from a plain REQ', async () => {
  const req = new Request({ linger: 0, receiveTimeout: 5000 })
  req.connect(s.info.router)
  try {
    await req.send(JSON.stringify({ v: 1, id: 'r1', token: s.info.token, method: 'peers.list' }))
    const [reply] = await req.receive()
    assert.deepEqual(JSON.parse(reply.toString()), { v: 1, id: 'r1', result: { peers: [] } })
  } finally { req.close() }
})

test('a client that disconnects mid-request does not disturb the sidecar', async () => {
  for (let i = 0; i < 20; i++) {
    const d = new Dealer({ linger: 0 })
    d.connect(s.info.router)
    await d.send(JSON.stringify({ v: 1, id: i, token: s.info.token, method: 'node.status' }))
    d.close()
  }
  assert.equal((await s.client.call('node.status')).name, 'target')
  assert.equal(s.proc.exitCode, null)
})
