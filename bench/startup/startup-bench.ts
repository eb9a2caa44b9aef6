import { join } from 'node:path'
import { Dealer } from 'zeromq'
import { spawnTracked, stopTracked, sleep } from '../lib/child-processes.ts'
import { tempDir, removeDir } from '../lib/temp-dirs.ts'
import { startSidecar, readMemory } from '../lib/sidecar-process.ts'
import { summarize, type Summary } from '../lib/stats.ts'

export interface StartupBenchOptions {
  /** Starts measured; they alternate between a fresh state dir and a restart on existing state. */
  runs: number
  /** How long the sidecar sits idle before its RSS is read. */
  settleMs: number
  log: (line: string) => void
}

export interface StartupRun {
  kind: 'first start' | 'restart'
  handshakeMs: number
  firstStatusMs: number
  stopMs: number
  exitCode: number | string | null
}

export interface StartupBenchResult {
  settings: Omit<StartupBenchOptions, 'log'>
  runs: StartupRun[]
  handshakeMs: Summary
  firstStatusMs: Summary
  /** Spawn of a bare `node -e` that prints one line, for scale (Node's own start-up). */
  bareNodeMs: Summary
  idle: { rssMB: number, hwmMB: number, samplesMB: number[] } | null
  errors: string[]
}

/** Time from sending node.status on a new Dealer to its successful reply (connect included). */
async function firstStatus (endpoint: string, token: string): Promise<void> {
  const d = new Dealer({ linger: 0, receiveTimeout: 5_000 })
  d.connect(endpoint)
  try {
    await d.send(JSON.stringify({ v: 1, id: 1, token, method: 'node.status', params: {} }))
    const [m] = await d.receive()
    const r = JSON.parse(m.toString('utf8')) as { result?: unknown, error?: unknown }
    if (r.result === undefined) throw new Error(`node.status failed: ${JSON.stringify(r.error)}`)
  } finally {
    d.close()
  }
}

async function bareNodeStart (): Promise<number> {
  const t0 = performance.now()
  const t = spawnTracked('node -e', process.execPath, ['-e', 'console.log(1)'], { stdio: ['ignore', 'pipe', 'pipe'] })
  await t.lines.next(10_000, 'its line')
  const ms = performance.now() - t0
  await stopTracked(t)
  return ms
}

/**
 * Spawn of `meshlink up --handshake` to API ready: the handshake line on stdout, then the first
 * successful node.status reply; then idle RSS of one sidecar after it has settled.
 */
export async function runStartupBench (opts: StartupBenchOptions): Promise<StartupBenchResult> {
  const dir = tempDir('startup')
  const runs: StartupRun[] = []
  const errors: string[] = []
  let idle: StartupBenchResult['idle'] = null
  const bare: number[] = []
  try {
    for (let i = 0; i < 3; i++) bare.push(await bareNodeStart())
    let stateDir = ''
    for (let i = 0; i < opts.runs; i++) {
      const kind: StartupRun['kind'] = i % 2 === 0 ? 'first start' : 'restart'
      if (kind === 'first start') stateDir = join(dir, `state-${i}`)
      const last = i === opts.runs - 1
      try {
        const s = await startSidecar(stateDir)
        try {
          await firstStatus(s.info.router, s.info.token)
          const statusAt = performance.now()
          if (last) {
            // idle RSS: nothing talks to the sidecar; sample once a second while it settles
            const samples: number[] = []
            const end = performance.now() + opts.settleMs
            while (performance.now() < end) {
              await sleep(1_000)
              const m = readMemory(s.tracked.pid)
              if (m) samples.push(m.rssMB)
            }
            const m = readMemory(s.tracked.pid)
            if (m) idle = { rssMB: m.rssMB, hwmMB: m.hwmMB, samplesMB: samples }
          }
          const t0 = performance.now()
          const exitCode = await s.stop()
          const run: StartupRun = { kind, handshakeMs: s.handshakeAt - s.spawnedAt, firstStatusMs: statusAt - s.spawnedAt, stopMs: performance.now() - t0, exitCode }
          runs.push(run)
          opts.log(`  ${kind.padEnd(11)} handshake ${run.handshakeMs.toFixed(0)} ms, first node.status ${run.firstStatusMs.toFixed(0)} ms, SIGTERM to exit ${run.stopMs.toFixed(0)} ms (exit ${String(exitCode)})`)
        } finally {
          await s.stop()
        }
      } catch (err) {
        errors.push(`run ${i + 1} (${kind}): ${(err as Error).message}`)
        opts.log(`  FAILED run ${i + 1} (${kind}): ${(err as Error).message}`)
      }
    }
  } finally {
    removeDir(dir)
  }
  return {
    settings: { runs: opts.runs, settleMs: opts.settleMs },
    runs,
    handshakeMs: summarize(runs.map(r => r.handshakeMs)),
    firstStatusMs: summarize(runs.map(r => r.firstStatusMs)),
    bareNodeMs: summarize(bare),
    idle,
    errors
  }
}
