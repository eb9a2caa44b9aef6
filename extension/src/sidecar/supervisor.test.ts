// The supervisor against real sidecar processes (the bundled dist/meshlink.mjs, loopback only, no mDNS).
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { upArgs, readConfig } from '../config.ts'
import { NodeTooOldError, resolveSidecar } from './resolve.ts'
import { SidecarSupervisor, type StartPlan, type SupervisorState } from './supervisor.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const bundled = existsSync(join(ROOT, 'dist', 'meshlink.mjs'))
const dirs: string[] = []
const supervisors: SidecarSupervisor[] = []
after(async () => {
  for (const s of supervisors) await s.stop().catch(() => {})
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'ml-sup-'))
  dirs.push(d)
  return d
}

const lines: string[] = []
const log = { debug: () => {}, info: (m: string) => { lines.push(m) }, warn: (m: string) => { lines.push(m) }, error: (m: string | Error) => { lines.push(String(m)) } }

function plan (stateDir: string, sidecarPath?: string): () => Promise<StartPlan> {
  const cfg = readConfig((k) => ({ listenAddresses: ['/ip4/127.0.0.1/tcp/0'], mdns: false } as Record<string, unknown>)[k])
  return async () => ({
    stateDir,
    launch: resolveSidecar({ env: {}, settingPath: sidecarPath, nodePath: undefined, extensionPath: ROOT }),
    args: upArgs(cfg, stateDir, process.pid),
    env: process.env
  })
}

function supervisor (p: () => Promise<StartPlan>, backoff = { initialMs: 100, maxAttempts: 3 }): SidecarSupervisor {
  const s = new SidecarSupervisor({ plan: p, log, backoff, pidPollMs: 200 })
  supervisors.push(s)
  return s
}

function waitFor (s: SidecarSupervisor, pred: (st: SupervisorState) => boolean, ms = 20_000): Promise<SupervisorState> {
  if (pred(s.state)) return Promise.resolve(s.state)
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { sub.dispose(); reject(new Error(`timed out in phase ${s.state.phase}; log:\n${lines.slice(-15).join('\n')}`)) }, ms)
    const sub = s.onDidChangeState((st) => { if (pred(st)) { clearTimeout(t); sub.dispose(); resolve(st) } })
  })
}

test('spawns a sidecar, attaches a second supervisor to it, restarts it after a crash', { skip: !bundled && 'dist/meshlink.mjs not built', timeout: 90_000 }, async () => {
  const state = tempDir()
  const a = supervisor(plan(state))
  await a.start()
  const st = await waitFor(a, s => s.phase === 'running')
  assert.equal(st.phase === 'running' && st.owned, true)
  const status = await a.client!.call('node.status')
  assert.equal(status.pid, a.pid)

  const b = supervisor(plan(state))
  await b.start()
  const sb = await waitFor(b, s => s.phase === 'running')
  assert.equal(sb.phase === 'running' && sb.owned, false, 'the second one attaches instead of spawning')
  assert.equal(b.pid, a.pid)
  assert.equal(b.spawnCount, 0)

  // events reach the subscriber
  const named = new Promise<string>((resolve) => { const sub = b.onEvent((ev) => { if (ev.event === 'node.name') { sub.dispose(); resolve((ev.data as { name: string }).name) } }) })
  await a.client!.call('node.setName', { name: 'renamed' })
  assert.equal(await named, 'renamed')

  // a crash: a restarts its own child with backoff and says so; b notices the pid is gone and recovers too
  const crashes: string[] = []
  a.onCrash(c => crashes.push(c.reason))
  const oldPid = a.pid!
  process.kill(oldPid, 'SIGKILL')
  await waitFor(a, s => s.phase === 'restarting')
  const again = await waitFor(a, s => s.phase === 'running' && s.info.pid !== oldPid)
  assert.equal(crashes.length, 1)
  assert.match(crashes[0], /SIGKILL/)
  assert.ok(again.phase === 'running')
  await waitFor(b, s => s.phase === 'running' && s.info.pid !== oldPid)
  assert.equal(b.pid, a.pid, 'both end up on one sidecar')

  // a restart by hand gives a fresh process
  const before = a.pid!
  await b.restart()
  await waitFor(b, s => s.phase === 'running' && s.info.pid !== before)
  await b.stop()
  assert.equal(b.state.phase, 'stopped')
})

test('an error only the person can fix fails at once, without retries', async () => {
  let calls = 0
  const s = supervisor(async () => { calls++; throw new NodeTooOldError('/usr/bin/node', '20.1.0', true) })
  await s.start()
  assert.equal(s.state.phase, 'failed')
  await new Promise(r => setTimeout(r, 300))
  assert.equal(calls, 1)
  await assert.rejects(s.whenRunning(1000), (e: Error) => e.name === 'SidecarDownError' && /Node 20\.1\.0/.test(e.message))
})

test('a sidecar that keeps dying before its handshake is retried with backoff, then given up', { timeout: 30_000 }, async () => {
  const dir = tempDir()
  const script = join(dir, 'broken.mjs')
  writeFileSync(script, "process.stderr.write('2026-11-24T00:00:00.000Z ERROR [meshlink] cannot bind\\n'); process.exit(1)\n")
  const s = supervisor(plan(dir, script), { initialMs: 50, maxAttempts: 2 })
  const phases: string[] = []
  s.onDidChangeState(st => phases.push(st.phase))
  await s.start()
  const st = await waitFor(s, x => x.phase === 'failed', 10_000)
  assert.equal(st.phase === 'failed' && st.error.name, 'SidecarGaveUpError')
  assert.match(st.phase === 'failed' ? st.error.message : '', /cannot bind/)
  assert.deepEqual(phases, ['starting', 'restarting', 'starting', 'restarting', 'starting', 'failed'])
  assert.equal(s.spawnCount, 3)
  assert.ok(lines.some(l => l.includes('[meshlink] cannot bind')), 'stderr reaches the log')
})
