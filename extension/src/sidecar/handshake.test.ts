import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { HandshakeError, parseHandshake, parseLogLine, readHandshake } from './handshake.ts'

const INFO = { v: 1, pid: 1234, version: '0.1.0', protocolVersion: 1, router: 'tcp://127.0.0.1:5555', events: 'tcp://127.0.0.1:5556', token: 'tok', peerId: '12D3KooWabc', stateDir: '/s', startedAt: '2026-11-24T00:00:00.000Z' }

test('parseHandshake accepts the API info line', () => {
  assert.deepEqual(parseHandshake(JSON.stringify(INFO)), INFO)
  assert.equal(parseHandshake(JSON.stringify({ ...INFO, router: 'ipc:///tmp/r' })).router, 'ipc:///tmp/r')
})

test('parseHandshake rejects what is not a usable handshake, saying what is wrong', () => {
  const bad: Array<[string, RegExp]> = [
    ['meshlink: up', /not JSON/],
    ['[1]', /not a JSON object/],
    [JSON.stringify({ ...INFO, v: 2 }), /version 2/],
    [JSON.stringify({ ...INFO, token: '' }), /no token/],
    [JSON.stringify({ ...INFO, pid: -1 }), /no pid/],
    [JSON.stringify({ ...INFO, router: 'http://x' }), /endpoints/]
  ]
  for (const [line, re] of bad) assert.throws(() => parseHandshake(line), (e: unknown) => e instanceof HandshakeError && re.test(e.message), line)
})

function child (script: string) {
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] })
}

// The children below stay alive until killed: one that exited soon after its line (say 200 ms) could
// have its exit seen first by a parent whose event loop was held up that long.
test('readHandshake: the first non-empty line wins', async () => {
  const p = child(`process.stdout.write('\\n' + ${JSON.stringify(JSON.stringify(INFO))} + '\\nlater\\n'); setTimeout(() => {}, 30_000)`)
  try {
    const r = await readHandshake(p, AbortSignal.timeout(10_000))
    assert.deepEqual(r, { kind: 'ready', info: INFO })
  } finally { p.kill() }
})

test('readHandshake: an exit before the line is reported with its code (4 = already running)', async () => {
  const r = await readHandshake(child('process.exit(4)'), AbortSignal.timeout(10_000))
  assert.deepEqual(r, { kind: 'exited', code: 4, signal: null })
})

test('readHandshake: a garbage first line rejects', async () => {
  const p = child("console.log('hello'); setTimeout(() => {}, 30_000)")
  try {
    await assert.rejects(readHandshake(p, AbortSignal.timeout(10_000)), HandshakeError)
  } finally { p.kill() }
})

test('readHandshake: the signal bounds the wait', async () => {
  const p = child('setTimeout(() => {}, 5000)')
  const started = Date.now()
  await assert.rejects(readHandshake(p, AbortSignal.timeout(200)))
  assert.ok(Date.now() - started < 3000)
  p.kill()
})

test('parseLogLine: sidecar log lines keep their level, others are warnings', () => {
  assert.deepEqual(parseLogLine('2026-11-24T03:00:00.000Z INFO [meshlink] listening'), { level: 'info', text: '[meshlink] listening' })
  assert.deepEqual(parseLogLine('2026-11-24T03:00:00.000Z ERROR [api] boom'), { level: 'error', text: '[api] boom' })
  assert.deepEqual(parseLogLine('TypeError: x is undefined'), { level: 'warn', text: 'TypeError: x is undefined' })
})
