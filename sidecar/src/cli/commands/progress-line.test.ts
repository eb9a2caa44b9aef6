import { test } from 'node:test'
import assert from 'node:assert/strict'
import { progressLine } from './artifact-commands.ts'
import type { Transfer } from '../../gen/protocol-types.ts'

const BOB = '12D3KooWBobBobBobBobBobBob'
const CAROL = '12D3KooWCarolCarolCarolCarol'
type PeerRow = Transfer['peers'][number]
const peer = (over: Partial<PeerRow>): PeerRow => ({ peer: BOB, name: 'bob', bytes: 1 << 20, chunks: 8, rateBytesPerSec: 2 << 20, inFlight: 4, state: 'active', reason: null, ...over })
const fetch = (over: Partial<Transfer>): Transfer => ({ id: 't1', kind: 'fetch', state: 'running', artifact: null, tag: null, path: '/tmp/out', bytesTotal: 4 << 20, bytesDone: 1 << 20, bytesFromPeers: 1 << 20, chunksTotal: 32, chunksDone: 8, rateBytesPerSec: 2 << 20, etaMs: 1500, peers: [peer({})], startedAt: '2026-11-24T12:00:00.000Z', finishedAt: null, error: null, ...over })

test('progress line: bar, percent, bytes, rate, ETA, peers', () => {
  assert.equal(progressLine(fetch({}), 8), '[##------]  25%  1.0 MiB/4.0 MiB  2.0 MiB/s  ETA 2s  1 peer')
  assert.equal(progressLine(fetch({ kind: 'publish', peers: [] }), 8), '[##------]  25%  1.0 MiB/4.0 MiB  2.0 MiB/s  ETA 2s')
})

test('progress line: a stalled fetch names the holders it waits for', () => {
  const stalled = fetch({ rateBytesPerSec: 0, etaMs: null, peers: [peer({ rateBytesPerSec: 0 }), peer({ peer: CAROL, name: null, inFlight: 0, rateBytesPerSec: 0, state: 'idle' })] })
  assert.equal(progressLine(stalled, 8), '[##------]  25%  1.0 MiB/4.0 MiB  0 B/s  waiting for bob')
  const unnamed = fetch({ rateBytesPerSec: 0, etaMs: null, peers: [peer({ peer: CAROL, name: null, rateBytesPerSec: 0 })] })
  assert.ok(progressLine(unnamed, 8).endsWith(`waiting for ${CAROL.slice(-8)}`), 'a holder without a name by the end of its id')
  // bytes still come from someone: no "waiting"
  assert.match(progressLine(fetch({ peers: [peer({ rateBytesPerSec: 0 }), peer({ peer: CAROL, name: 'carol' })] }), 8), /2 peers$/)
})
