import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { spawnTracked, stopTracked, type Tracked } from '../lib/child-processes.ts'
import { median, ratio, summarize, type Summary } from '../lib/stats.ts'
import { MESH_SECRET_ENV, type BulkConfig, type MeasureResult } from './bulk-protocol.ts'

export interface BulkBenchOptions {
  /** Bytes per measured transfer, split across the streams. */
  totalMiB: number
  streams: number[]
  rounds: number
  /** Stop starting new rounds after this long (the rounds done so far are reported). */
  budgetMs: number
  log: (line: string) => void
}

export interface BulkFailure {
  config: BulkConfig
  streams: number
  phase: 'warm-up' | 'measured'
  round: number | null
  error: string
}

export interface BulkCell {
  MBps: Summary
  senderCpuPct: Summary
  receiverCpuPct: Summary
  /** Sender + receiver CPU time per MB moved (ms): the cost, less sensitive to CPU contention than MB/s. */
  cpuMsPerMB: Summary
}

export interface BulkBenchResult {
  settings: Omit<BulkBenchOptions, 'log'> & { chunkKiB: number }
  dialMs: Record<BulkConfig, number>
  /** results[config][streams] */
  results: Record<BulkConfig, Record<string, BulkCell>>
  /** member / plain median MB/s per stream count, and the median of per-round paired ratios. */
  ratios: Record<string, { ofMedians: number, perRound: Summary }>
  roundsDone: number
  failures: BulkFailure[]
}

const HERE = import.meta.dirname
const MEASURE_TIMEOUT_MS = 90_000
const CONFIGS: BulkConfig[] = ['member', 'plain']

interface Pair { config: BulkConfig, server: Tracked, client: Tracked, dialMs: number }

async function startPair (config: BulkConfig, env: NodeJS.ProcessEnv): Promise<Pair> {
  const peer = join(HERE, 'bulk-peer.ts')
  const server = spawnTracked(`bulk server ${config}`, process.execPath, [peer, 'server', config], { env })
  const { addr } = await server.lines.nextJson<{ addr: string }>(15_000, 'its listen address')
  const client = spawnTracked(`bulk client ${config}`, process.execPath, [peer, 'client', config, addr], { env })
  const { dialMs } = await client.lines.nextJson<{ dialMs: number }>(15_000, 'the ready line')
  return { config, server, client, dialMs }
}

async function measure (p: Pair, streams: number, bytes: number): Promise<MeasureResult> {
  p.client.proc.stdin!.write(JSON.stringify({ op: 'measure', streams, bytes }) + '\n')
  return p.client.lines.nextJson<MeasureResult>(MEASURE_TIMEOUT_MS, `the result of a ${streams}-stream transfer`)
}

/**
 * Bulk stream throughput between two processes over loopback, member (the project's node
 * composition, Noise prologue on) versus plain noise+yamux, both pairs alive at once; after a
 * warm-up per config and stream count, rounds interleave the configs (order flipped every round).
 */
export async function runBulkBench (opts: BulkBenchOptions): Promise<BulkBenchResult> {
  const env = { ...process.env, [MESH_SECRET_ENV]: randomBytes(32).toString('base64url') }
  const pairs: Pair[] = []
  const failures: BulkFailure[] = []
  const bytes = opts.totalMiB * 1024 * 1024
  const samples = Object.fromEntries(CONFIGS.map(c => [c, Object.fromEntries(opts.streams.map(k => [k, [] as Array<MeasureResult & { ok: true }>]))])) as Record<BulkConfig, Record<number, Array<MeasureResult & { ok: true }>>>
  const perRound: Record<number, number[]> = Object.fromEntries(opts.streams.map(k => [k, []]))
  const started = performance.now()
  let roundsDone = 0
  try {
    for (const c of CONFIGS) pairs.push(await startPair(c, env))
    opts.log(`  pairs up: ${pairs.map(p => `${p.config} (server ${p.server.pid}, client ${p.client.pid}, dial ${p.dialMs.toFixed(0)} ms)`).join('; ')}`)
    const run = async (p: Pair, k: number, phase: BulkFailure['phase'], round: number | null): Promise<(MeasureResult & { ok: true }) | undefined> => {
      const res = await measure(p, k, bytes)
      if (res.ok) return res
      failures.push({ config: p.config, streams: k, phase, round, error: res.error })
      opts.log(`  FAILED ${p.config} ${k}-stream ${phase}${round === null ? '' : ` round ${round}`}: ${res.error}`)
      return undefined
    }
    // warm-up: JIT and buffers on both processes of each pair, not reported (failures are)
    for (const p of pairs) for (const k of opts.streams) await run(p, k, 'warm-up', null)
    for (let r = 1; r <= opts.rounds; r++) {
      if (performance.now() - started > opts.budgetMs) {
        opts.log(`  time budget of ${opts.budgetMs} ms used up after ${roundsDone} rounds`)
        break
      }
      for (const k of opts.streams) {
        const ordered = r % 2 === 1 ? pairs : [...pairs].reverse()
        const got: Partial<Record<BulkConfig, number>> = {}
        for (const p of ordered) {
          const res = await run(p, k, 'measured', r)
          if (res) { samples[p.config][k].push(res); got[p.config] = res.MBps }
        }
        if (got.member !== undefined && got.plain !== undefined) perRound[k].push(got.member / got.plain)
        opts.log(`  round ${r} ${k} stream(s): member ${got.member?.toFixed(0) ?? 'FAILED'} MB/s, plain ${got.plain?.toFixed(0) ?? 'FAILED'} MB/s`)
      }
      roundsDone = r
    }
  } finally {
    for (const p of pairs) {
      p.client.proc.stdin!.end()
      await stopTracked(p.client)
      await stopTracked(p.server)
    }
  }
  const cell = (xs: Array<MeasureResult & { ok: true }>): BulkCell => ({
    MBps: summarize(xs.map(x => x.MBps)),
    senderCpuPct: summarize(xs.map(x => x.senderCpuPct)),
    receiverCpuPct: summarize(xs.map(x => x.receiverCpuPct)),
    cpuMsPerMB: summarize(xs.map(x => 10 * (x.senderCpuPct + x.receiverCpuPct) / x.MBps))
  })
  const results = Object.fromEntries(CONFIGS.map(c => [c, Object.fromEntries(opts.streams.map(k => [String(k), cell(samples[c][k])]))])) as Record<BulkConfig, Record<string, BulkCell>>
  const ratios = Object.fromEntries(opts.streams.map(k => [String(k), {
    ofMedians: ratio(median(samples.member[k].map(x => x.MBps)), median(samples.plain[k].map(x => x.MBps))),
    perRound: summarize(perRound[k])
  }]))
  const dialMs = Object.fromEntries(pairs.map(p => [p.config, p.dialMs])) as Record<BulkConfig, number>
  return {
    settings: { totalMiB: opts.totalMiB, streams: opts.streams, rounds: opts.rounds, budgetMs: opts.budgetMs, chunkKiB: 256 },
    dialMs,
    results,
    ratios,
    roundsDone,
    failures
  }
}
