import { writeFileSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { RESULTS_DIR } from './paths.ts'
import { fmt, type Summary } from './stats.ts'
import type { MachineInfo } from './machine-info.ts'
import type { MachineLoad } from './cpu-busy.ts'
import type { ApiBenchResult } from '../api/api-bench.ts'
import type { BulkBenchResult } from '../bulk/bulk-bench.ts'
import type { StartupBenchResult } from '../startup/startup-bench.ts'

export interface Goal {
  name: string
  target: string
  measured: string
  /** null: not measured in this run (phase skipped or failed). */
  met: boolean | null
}

export interface BenchReport {
  startedAt: string
  durationS: number
  machine: MachineInfo
  goals: Goal[]
  api: ApiBenchResult | null
  bulk: BulkBenchResult | null
  startup: StartupBenchResult | null
  /** Load average and CPU busy % over the second before each phase. */
  loadBefore: Record<string, MachineLoad>
  /** CPU busy % during each phase, and the part used by processes other than the bench's. */
  loadDuring: Record<string, MachineLoad>
  /** A phase that threw: its message (the other phases still ran). */
  phaseErrors: Record<string, string>
}

const range = (s: Summary, unit = ''): string => s.n === 0 ? '—' : `${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)}, n=${s.n})`
const pct = (x: number | null): string => x === null ? '?' : x.toFixed(0)
const loadText = (before: MachineLoad | undefined, during: MachineLoad | undefined): string =>
  (before ? ` Machine just before: load ${before.load1.toFixed(2)}, CPU ${pct(before.busyPct)} % busy.` : '') +
  (during ? ` During the phase: CPU ${pct(during.busyPct)} % busy (all cores), of which ${pct(during.othersPct)} % by processes other than the bench's.` : '')
const metText = (m: boolean | null): string => m === null ? 'not measured' : m ? '**met**' : '**NOT met**'

/** The goals as the brief states them, judged on this run's numbers. */
export function judgeGoals (api: ApiBenchResult | null, bulk: BulkBenchResult | null, startup: StartupBenchResult | null): Goal[] {
  const goals: Goal[] = []
  const apiRatio = api?.p50Ratio ?? Number.NaN
  goals.push({
    name: 'API round trip: MeshLink p50 / bare ZeroMQ p50',
    target: '<= 2.0',
    measured: Number.isFinite(apiRatio) ? `${apiRatio.toFixed(2)} (${fmt(api!.targets.meshlink.p50_us.median)} vs ${fmt(api!.targets.bare.p50_us.median)} µs)` : '—',
    met: Number.isFinite(apiRatio) ? apiRatio <= 2 : null
  })
  for (const k of bulk?.settings.streams ?? [1, 4]) {
    const r = bulk?.ratios[String(k)]?.ofMedians ?? Number.NaN
    const pr = bulk?.ratios[String(k)]?.perRound.median ?? Number.NaN
    const m = bulk?.results.member[String(k)]?.MBps.median
    const p = bulk?.results.plain[String(k)]?.MBps.median
    // judged on the ratio of medians; when the per-round pairs say otherwise the run was too noisy to tell
    const disagree = Number.isFinite(pr) && (pr >= 0.9) !== (r >= 0.9)
    goals.push({
      name: `bulk ${k} stream(s): member / plain MB/s`,
      target: '>= 0.90',
      measured: Number.isFinite(r)
        ? `${r.toFixed(2)} (${fmt(m!)} vs ${fmt(p!)} MB/s); per-round median ${fmt(pr)}${disagree ? ': the two disagree, too noisy to tell' : ''}`
        : '—',
      met: Number.isFinite(r) ? r >= 0.9 : null
    })
  }
  const st = startup?.firstStatusMs
  goals.push({
    name: 'spawn `meshlink up` to first node.status reply (every run)',
    target: '<= 1500 ms',
    measured: st && st.n > 0 ? `max ${fmt(st.max)} ms, median ${fmt(st.median)} ms (n=${st.n})` : '—',
    met: st && st.n > 0 ? st.max <= 1500 : null
  })
  const rss = startup?.idle?.rssMB
  goals.push({
    name: 'idle RSS of the sidecar (VmRSS after settling)',
    target: '<= 120 MB',
    measured: rss !== undefined ? `${rss.toFixed(1)} MB` : '—',
    met: rss !== undefined ? rss <= 120 : null
  })
  return goals
}

export function renderMarkdown (r: BenchReport): string {
  const m = r.machine
  const out: string[] = []
  out.push(`# MeshLink bench, ${r.startedAt}`, '')
  out.push(`${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load ${m.load1.toFixed(2)} at start; commit ${m.commit}${m.sidecarDirty ? ' (sidecar/ had uncommitted changes)' : ''}; ` +
    Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ') + `. Run took ${r.durationS.toFixed(0)} s.`, '')
  out.push('## Goals', '', '| goal | target | measured | |', '|---|---|---|---|')
  for (const g of r.goals) out.push(`| ${g.name} | ${g.target} | ${g.measured} | ${metText(g.met)} |`)
  out.push('')
  for (const [phase, msg] of Object.entries(r.phaseErrors)) out.push(`**Phase ${phase} failed:** ${msg.split('\n')[0]}`, '')

  if (r.api) {
    const a = r.api
    out.push(`## 1. API round trip (${a.method}, request ${a.reqBytes} B, reply ${a.replyBytes} B, ipc://)`, '')
    out.push(`${a.settings.rounds} rounds, targets rotated each round, a fresh client process per run: ${a.settings.warmup} warm-up requests, ` +
      `sequential for ${a.settings.latSecs} s, then ${a.settings.window} in flight for ${a.settings.tputSecs} s. Cells: median over rounds (min–max).` + loadText(r.loadBefore.api, r.loadDuring.api), '')
    out.push('| server (client) | p50 µs | p99 µs | sequential req/s | window req/s |', '|---|---|---|---|---|')
    const rows: Array<[string, keyof ApiBenchResult['targets']]> = [
      ['MeshLink sidecar (raw Dealer)', 'meshlink'],
      ['MeshLink sidecar (MeshlinkClient)', 'meshlink-client'],
      ['bare ZeroMQ echo ROUTER (raw Dealer)', 'bare']
    ]
    for (const [label, key] of rows) {
      const t = a.targets[key]
      out.push(`| ${label} | ${range(t.p50_us)} | ${range(t.p99_us)} | ${range(t.seq_rps)} | ${range(t.window_rps)} |`)
    }
    out.push('', `p50 ratio MeshLink / bare: ${fmt(a.p50Ratio)} (of medians); per round ${range(a.p50RatioPerRound)}. ` +
      `Sidecar RSS after the load: ${a.sidecarRssAfterLoadMB?.toFixed(1) ?? '?'} MB.`, '')
    for (const e of a.errors) out.push(`- FAILED: ${e}`)
    if (a.errors.length) out.push('')
  }

  if (r.bulk) {
    const b = r.bulk
    out.push(`## 2. Bulk stream throughput (two processes per config, 127.0.0.1, ${b.settings.totalMiB} MiB per transfer in ${b.settings.chunkKiB} KiB writes)`, '')
    out.push(`member = the project's createMeshNode (Noise prologue bound to the mesh secret, identify, ping, presence); plain = createLibp2p(tcp, noise(), yamux()). ` +
      `One warm-up per config and stream count, then ${b.roundsDone} of ${b.settings.rounds} interleaved rounds. Dial: member ${fmt(b.dialMs.member)} ms, plain ${fmt(b.dialMs.plain)} ms.` + loadText(r.loadBefore.bulk, r.loadDuring.bulk), '')
    out.push('| config | streams | MB/s | sender CPU % | receiver CPU % | CPU ms per MB (both) |', '|---|---|---|---|---|---|')
    for (const c of ['member', 'plain'] as const) {
      for (const k of b.settings.streams) {
        const cell = b.results[c][String(k)]
        out.push(`| ${c} | ${k} | ${range(cell.MBps)} | ${range(cell.senderCpuPct)} | ${range(cell.receiverCpuPct)} | ${range(cell.cpuMsPerMB)} |`)
      }
    }
    out.push('')
    for (const k of b.settings.streams) {
      const x = b.ratios[String(k)]
      out.push(`- ${k} stream(s): member / plain ${fmt(x.ofMedians)} (of medians); per round ${range(x.perRound)}`)
    }
    out.push(`- failed transfers: ${b.failures.length}`)
    for (const f of b.failures) out.push(`  - ${f.config}, ${f.streams} stream(s), ${f.phase}${f.round === null ? '' : ` round ${f.round}`}: ${f.error}`)
    out.push('')
  }

  if (r.startup) {
    const s = r.startup
    out.push('## 3. Start-up and idle memory', '')
    out.push(`\`meshlink up --handshake --listen /ip4/127.0.0.1/tcp/0 --no-mdns\`, ${s.runs.length} runs alternating a fresh state dir (identity and mesh created) and a restart on that state. ` +
      `Times from spawn(). For scale, spawning \`node -e\` until its first line: ${range(s.bareNodeMs, ' ms')}.` + loadText(r.loadBefore.startup, r.loadDuring.startup), '')
    out.push('| run | kind | handshake line ms | first node.status ms | SIGTERM to exit ms |', '|---|---|---|---|---|')
    s.runs.forEach((x, i) => out.push(`| ${i + 1} | ${x.kind} | ${fmt(x.handshakeMs)} | ${fmt(x.firstStatusMs)} | ${fmt(x.stopMs)} |`))
    out.push('', `Handshake ${range(s.handshakeMs, ' ms')}; first node.status ${range(s.firstStatusMs, ' ms')}.`)
    if (s.idle) out.push(`Idle RSS after ${s.settings.settleMs / 1000} s: ${s.idle.rssMB.toFixed(1)} MB (samples ${s.idle.samplesMB.map(x => x.toFixed(1)).join(', ')}; peak VmHWM ${s.idle.hwmMB.toFixed(1)} MB).`)
    for (const e of s.errors) out.push(`- FAILED: ${e}`)
    out.push('')
  }
  return out.join('\n')
}

/** Writes <stamp>.json and <stamp>.md, and replaces latest.md (via a temp file, never half-written). */
export function saveReport (r: BenchReport): { json: string, md: string, latest: string } {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const stamp = r.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')
  const json = join(RESULTS_DIR, `${stamp}.json`)
  const md = join(RESULTS_DIR, `${stamp}.md`)
  const latest = join(RESULTS_DIR, 'latest.md')
  const text = renderMarkdown(r)
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n')
  writeFileSync(md, text)
  writeFileSync(latest + '.tmp', text)
  renameSync(latest + '.tmp', latest)
  return { json, md, latest }
}
