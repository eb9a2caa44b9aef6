import { join } from 'node:path'
import { Dealer } from 'zeromq'
import { spawnTracked, stopTracked, type Tracked } from '../lib/child-processes.ts'
import { tempDir, removeDir } from '../lib/temp-dirs.ts'
import { startSidecar, readMemory, type RunningSidecar } from '../lib/sidecar-process.ts'
import { median, ratio, summarize, type Summary } from '../lib/stats.ts'
import type { LoadOptions, LoadResult } from './dealer-load.ts'

export interface ApiBenchOptions {
  rounds: number
  warmup: number
  latSecs: number
  tputSecs: number
  window: number
  log: (line: string) => void
}

/** Who answers: MeshLink's ROUTER (raw Dealer or MeshlinkClient) or the bare echo ROUTER. */
export type ApiTarget = 'meshlink' | 'meshlink-client' | 'bare'

export interface ApiTargetResult {
  p50_us: Summary
  p99_us: Summary
  seq_rps: Summary
  window_rps: Summary
  runs: LoadResult[]
}

export interface ApiBenchResult {
  method: string
  reqBytes: number
  replyBytes: number
  settings: Omit<ApiBenchOptions, 'log'>
  targets: Record<ApiTarget, ApiTargetResult>
  /** MeshLink p50 / bare p50 (medians over rounds), and the median of the per-round ratios. */
  p50Ratio: number
  p50RatioPerRound: Summary
  sidecarRssAfterLoadMB: number | undefined
  errors: string[]
}

const HERE = import.meta.dirname
const METHOD = 'node.status'
const CLIENT_TIMEOUT_MS = 60_000

/** Sends one request with a plain Dealer and returns the reply's size (the echo ROUTER matches it). */
async function probeReplyBytes (endpoint: string, token: string): Promise<number> {
  const d = new Dealer({ linger: 0, receiveTimeout: 5_000 })
  d.connect(endpoint)
  try {
    await d.send(JSON.stringify({ v: 1, id: 1, token, method: METHOD, params: {} }))
    const [m] = await d.receive()
    const r = JSON.parse(m.toString('utf8')) as { result?: unknown, error?: unknown }
    if (r.result === undefined) throw new Error(`${METHOD} failed: ${JSON.stringify(r.error)}`)
    return m.byteLength
  } finally {
    d.close()
  }
}

async function runClient (o: LoadOptions): Promise<LoadResult> {
  const t = spawnTracked(`dealer-load ${o.via}`, process.execPath, [join(HERE, 'dealer-load.ts'), JSON.stringify(o)])
  try {
    return await t.lines.nextJson<LoadResult>(CLIENT_TIMEOUT_MS, 'a result line')
  } finally {
    await stopTracked(t)
  }
}

/**
 * API round trip, side by side: a real sidecar's ROUTER and a bare ZeroMQ echo ROUTER (own
 * process, same request bytes, same reply size), each hit by a fresh client process per round;
 * targets are rotated every round so drift on the machine hits all of them alike.
 */
export async function runApiBench (opts: ApiBenchOptions): Promise<ApiBenchResult> {
  const dir = tempDir('api')
  let sidecar: RunningSidecar | undefined
  let echo: Tracked | undefined
  const errors: string[] = []
  try {
    sidecar = await startSidecar(join(dir, 'state'))
    const { router, token } = sidecar.info
    const replyBytes = await probeReplyBytes(router, token)
    const echoEndpoint = `ipc://${join(dir, 'echo.sock')}`
    echo = spawnTracked('zmq echo router', process.execPath, [join(HERE, 'zmq-echo-router.ts'), echoEndpoint, String(replyBytes)])
    await echo.lines.nextJson(10_000, 'the bound line')
    opts.log(`  sidecar pid ${sidecar.tracked.pid} at ${router}; echo router pid ${echo.pid}; ${METHOD} reply ${replyBytes} B`)

    const endpoints: Record<ApiTarget, string> = { meshlink: router, 'meshlink-client': router, bare: echoEndpoint }
    const order: ApiTarget[] = ['meshlink', 'bare', 'meshlink-client']
    const runs: Record<ApiTarget, LoadResult[]> = { meshlink: [], 'meshlink-client': [], bare: [] }
    const pairRatios: number[] = []
    for (let r = 0; r < opts.rounds; r++) {
      const rotated = [...order.slice(r % order.length), ...order.slice(0, r % order.length)]
      const thisRound: Partial<Record<ApiTarget, LoadResult>> = {}
      for (const target of rotated) {
        const o: LoadOptions = {
          endpoint: endpoints[target],
          token,
          method: METHOD,
          via: target === 'meshlink-client' ? 'client' : 'dealer',
          warmup: opts.warmup,
          latSecs: opts.latSecs,
          tputSecs: opts.tputSecs,
          window: opts.window
        }
        try {
          const res = await runClient(o)
          runs[target].push(res)
          thisRound[target] = res
          opts.log(`  round ${r + 1} ${target.padEnd(15)} p50 ${res.p50_us.toFixed(0)} us  p99 ${res.p99_us.toFixed(0)} us  seq ${res.seq_rps.toFixed(0)}/s  window ${res.window} ${res.window_rps.toFixed(0)}/s`)
        } catch (err) {
          const msg = `round ${r + 1} ${target}: ${(err as Error).message}`
          errors.push(msg)
          opts.log(`  FAILED ${msg}`)
        }
      }
      if (thisRound.meshlink && thisRound.bare) pairRatios.push(thisRound.meshlink.p50_us / thisRound.bare.p50_us)
    }
    const summarizeTarget = (rs: LoadResult[]): ApiTargetResult => ({
      p50_us: summarize(rs.map(x => x.p50_us)),
      p99_us: summarize(rs.map(x => x.p99_us)),
      seq_rps: summarize(rs.map(x => x.seq_rps)),
      window_rps: summarize(rs.map(x => x.window_rps)),
      runs: rs
    })
    const targets = {
      meshlink: summarizeTarget(runs.meshlink),
      'meshlink-client': summarizeTarget(runs['meshlink-client']),
      bare: summarizeTarget(runs.bare)
    }
    const reqBytes = runs.meshlink[0]?.reqBytes ?? Number.NaN
    return {
      method: METHOD,
      reqBytes,
      replyBytes,
      settings: { rounds: opts.rounds, warmup: opts.warmup, latSecs: opts.latSecs, tputSecs: opts.tputSecs, window: opts.window },
      targets,
      p50Ratio: ratio(median(runs.meshlink.map(x => x.p50_us)), median(runs.bare.map(x => x.p50_us))),
      p50RatioPerRound: summarize(pairRatios),
      sidecarRssAfterLoadMB: readMemory(sidecar.tracked.pid)?.rssMB,
      errors
    }
  } finally {
    if (echo) await stopTracked(echo)
    if (sidecar) await sidecar.stop()
    removeDir(dir)
  }
}
