// npm run bench:sync — issue 5's benchmark (artifact sync), ratios in one run:
//   1. loopback: 1 GiB fetch by one peer vs a bare noise+yamux libp2p stream; peak RSS of both sidecars
//   2. lan: 4 seeders (netns, tbf 100 Mbit/s egress each) + 1 downloader: aria2c -s4 -x4 from 4 nginx
//      vs MeshLink from 4 seeder sidecars; equal, uneven (one at 20 Mbit/s), a seeder killed halfway
//   3. incremental: 1% of a 200 MiB tree changed in scattered places, re-published, fetched by a peer
//      holding the old one: bytes moved
// Options: --quick (smaller, one round)  --no-build  --only loopback,lan,incremental
//          --rounds N (loopback and lan rounds)
// Env: MESHLINK_BENCH_NODE_ARGS="FLAGS": extra node flags for every sidecar (experiments; say so when
// reporting a run made with them).
// Env: MESHLINK_BENCH_CPU_PROF=DIR runs the sidecars under node --cpu-prof (profiles kept in DIR,
//      summarized in the report).
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ROOT, RESULTS_DIR } from '../lib/paths.ts'
import { installCleanupHandlers, stopAll } from '../lib/child-processes.ts'
import { machineInfo } from '../lib/machine-info.ts'
import { fmt, type Summary } from '../lib/stats.ts'
import { SIDECAR_BUNDLE } from '../lib/sidecar-process.ts'
import { summarizeProfile } from '../forward/cpuprofile-top.ts'
import { removeAllBigDirs } from './common.ts'
import { watchLoad, type MachineLoad } from '../lib/cpu-busy.ts'
import { runLoopback, describeCost, type LoopbackResult } from './loopback.ts'
import { runLan, describeLinkIdle, type LanResult, type LanRun } from './lan.ts'
import { runIncremental, type IncrementalResult } from './incremental.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' }
  }
})
const quick = values.quick === true
const only = new Set((values.only ?? 'loopback,lan,incremental').split(',').map(s => s.trim()))
const startedAt = new Date()
const t0 = performance.now()
const log = (line: string): void => { process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`) }
const profDir = process.env.MESHLINK_BENCH_CPU_PROF ? resolve(process.env.MESHLINK_BENCH_CPU_PROF) : undefined
if (profDir) mkdirSync(profDir, { recursive: true })
const extraNodeArgs = (process.env.MESHLINK_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const nodeArgs = (role: string): string[] => [...extraNodeArgs, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${role}-\${pid}.cpuprofile`] : [])]

installCleanupHandlers()
process.on('exit', removeAllBigDirs)

if (values['no-build'] !== true) {
  log('building dist/meshlink.mjs ...')
  if (spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) { process.stderr.write('bench:sync: the build failed\n'); process.exit(1) }
}

interface Goal { name: string, target: string, measured: string, met: boolean | null, note?: string }
const goals: Goal[] = []
const errors: Record<string, string> = {}
let loopback: LoopbackResult | null = null
let lan: LanResult | null = null
let incremental: IncrementalResult | null = null
const rounds = values.rounds !== undefined ? Number(values.rounds) : undefined

const loadDuring: Record<string, MachineLoad> = {}
const range = (s: Summary, unit = ''): string => s.n === 0 ? '—' : `${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)}, n=${s.n})`

if (only.has('loopback')) {
  log(`phase 1: loopback, ${quick ? 256 : 1024} MiB, MeshLink fetch vs bare libp2p stream`)
  const w = watchLoad()
  try {
    loopback = await runLoopback({ totalMiB: quick ? 256 : 1024, files: 16, rounds: rounds ?? (quick ? 1 : 3), nodeArgs, log })
  } catch (err) { errors.loopback = (err as Error).stack ?? String(err); log(`  phase failed: ${(err as Error).message}`) }
  await stopAll()
  loadDuring.loopback = w()
  log(`  CPU during the phase: ${loadDuring.loopback.busyPct?.toFixed(0)} % busy, of which ${loadDuring.loopback.othersPct?.toFixed(0)} % by other processes`)
}
if (only.has('lan')) {
  log(`phase 2: LAN swarm in network namespaces, ${quick ? 100 : 400} MiB, aria2c vs MeshLink`)
  const w = watchLoad()
  try {
    lan = await runLan({ sizeMiB: quick ? 100 : 400, rounds: rounds ?? (quick ? 1 : 2), nodeArgs, log })
  } catch (err) { errors.lan = (err as Error).stack ?? String(err); log(`  phase failed: ${(err as Error).message}`) }
  await stopAll()
  loadDuring.lan = w()
  log(`  CPU during the phase: ${loadDuring.lan.busyPct?.toFixed(0)} % busy, of which ${loadDuring.lan.othersPct?.toFixed(0)} % by other processes`)
}
if (only.has('incremental')) {
  log(`phase 3: incremental, ${quick ? 50 : 200} MiB tree, 1% changed`)
  const w = watchLoad()
  try {
    incremental = await runIncremental({ treeMiB: quick ? 50 : 200, nodeArgs, log })
  } catch (err) { errors.incremental = (err as Error).stack ?? String(err); log(`  phase failed: ${(err as Error).message}`) }
  await stopAll()
  loadDuring.incremental = w()
  log(`  CPU during the phase: ${loadDuring.incremental.busyPct?.toFixed(0)} % busy, of which ${loadDuring.incremental.othersPct?.toFixed(0)} % by other processes`)
}

// ---- goals
if (only.has('loopback')) {
  const r = loopback?.ratioOfMedians ?? Number.NaN
  goals.push({
    name: `loopback ${loopback?.settings.totalMiB ?? '?'} MiB: MeshLink fetch / bare libp2p stream MB/s`,
    target: '>= 0.8',
    measured: loopback ? `${fmt(r)} (${fmt(loopback.fetchMBps.median)} vs ${fmt(loopback.bareMBps.median)} MB/s; per-round ratio ${range(loopback.perRoundRatio)})` : '—',
    met: Number.isFinite(r) && loopback!.allVerified ? r >= 0.8 : null,
    ...(loopback && !loopback.allVerified ? { note: 'not every fetch verified byte-exact' } : {})
  })
  const peak = loopback ? Math.max(loopback.rss.fetcherHwmMB, loopback.rss.serverHwmMB) : Number.NaN
  goals.push({
    name: 'loopback: peak RSS of the fetching and the serving sidecar (VmHWM, whole life)',
    target: '<= 250 MB each',
    measured: loopback ? `fetcher ${fmt(loopback.rss.fetcherHwmMB)} MB, server ${fmt(loopback.rss.serverHwmMB)} MB (VmRSS sampled during fetches: ${fmt(loopback.rss.fetcherDuringFetchMB)} / ${fmt(loopback.rss.serverDuringFetchMB)} MB)` : '—',
    met: Number.isFinite(peak) ? peak <= 250 : null
  })
}
if (only.has('lan')) {
  if (lan?.skipped) {
    for (const n of ['equal', 'uneven', 'kill']) goals.push({ name: `LAN ${n}`, target: '', measured: '—', met: null, note: `skipped: ${lan.skipped}` })
  } else {
    const g = (key: 'equal' | 'uneven' | 'kill', target: number, label: string): void => {
      const c = lan?.scenarios[key]
      const r = c?.ratioOfMedians ?? Number.NaN
      goals.push({
        name: `LAN ${label}: MeshLink / aria2c MB/s`,
        target: `>= ${target}`,
        measured: c ? `${fmt(r)} (${fmt(c.meshlink.median)} vs ${fmt(c.aria2c.median)} MB/s, n=${c.meshlink.n}/${c.aria2c.n})` : '—',
        met: Number.isFinite(r) && c!.allVerified && c!.meshlinkFailures === 0 ? r >= target : (c && c.meshlinkFailures > 0 ? false : null),
        ...(c && c.meshlinkFailures > 0 ? { note: `${c.meshlinkFailures} MeshLink fetch(es) did not complete` } : {})
      })
    }
    g('equal', 0.95, 'equal seeders (4 x 100 Mbit/s)')
    g('uneven', 1.0, 'uneven seeders (20 + 3 x 100 Mbit/s)')
    g('kill', 1.0, 'a seeder killed halfway (completes, and)')
  }
}
if (only.has('incremental')) {
  const p = incremental?.patterns[0]
  goals.push({
    name: `incremental: bytes moved / tree size (${p?.label ?? '1% changed'})`,
    target: '<= 5 %',
    measured: p ? `${(100 * p.movedFraction).toFixed(2)} % (${fmt(p.bytesMoved / 1e6)} MB of ${fmt(p.treeBytes / 1e6)} MB)` : '—',
    met: p ? p.verified && p.movedFraction <= 0.05 : null
  })
}

// ---- profiles
let profiles: Array<{ file: string, summary: ReturnType<typeof summarizeProfile> }> = []
if (profDir) {
  profiles = readdirSync(profDir).filter(f => f.endsWith('.cpuprofile')).map(f => {
    try { return { file: f, summary: summarizeProfile(join(profDir, f), SIDECAR_BUNDLE, 15) } } catch { return undefined }
  }).filter((x): x is { file: string, summary: ReturnType<typeof summarizeProfile> } => x !== undefined)
}

// ---- report
const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')
const report = { startedAt: startedAt.toISOString(), durationS: (performance.now() - t0) / 1000, quick, machine: machineInfo(), sidecarNodeArgs: extraNodeArgs, goals, loadDuring, loopback, lan, incremental, errors, profiles }
mkdirSync(RESULTS_DIR, { recursive: true })
const md: string[] = [`# bench:sync ${startedAt.toISOString()}${quick ? ' (--quick)' : ''}`, '',
  `${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}, commit ${report.machine.commit}${report.machine.sidecarDirty ? ' (sidecar/ dirty)' : ''}${extraNodeArgs.length ? `; sidecars run with node ${extraNodeArgs.join(' ')}` : ''}; load ${report.machine.load1.toFixed(2)} at start; ${report.durationS.toFixed(0)} s`, '',
  `CPU busy during the phases (all cores; of which by processes other than the bench's): ${Object.entries(loadDuring).map(([k, v]) => `${k} ${v.busyPct?.toFixed(0)} % (${v.othersPct?.toFixed(0)} %)`).join(', ')}. The machine is shared: compare the ratios, not absolute numbers across runs.`, '',
  '| goal | target | measured | met |', '|---|---|---|---|',
  ...goals.map(g => `| ${g.name} | ${g.target} | ${g.measured}${g.note ? ` — ${g.note}` : ''} | ${g.met === null ? 'not measured' : g.met ? '**met**' : '**NOT met**'} |`), '']
if (loopback) {
  md.push('## 1. Loopback', '', `${loopback.settings.totalMiB} MiB in ${loopback.settings.files} files (pseudo-random), data and stores on ${loopback.settings.dataDir.split('/').slice(0, -1).join('/') || '/'}; publish ${loopback.publish.seconds.toFixed(2)} s (${fmt(loopback.publish.MBps)} MB/s). Bare = bench/bulk/bulk-peer.ts plain (createLibp2p tcp+noise+yamux), 1 stream, same byte count; order alternates per round.`, '',
    '| round | MeshLink MB/s | s | fetcher CPU % | bare MB/s | ratio | byte-exact | RSS fetcher / server MB |', '|---|---|---|---|---|---|---|---|',
    ...loopback.rounds.map(r => `| ${r.round} | ${fmt(r.fetchMBps)} | ${r.fetchSeconds.toFixed(2)} | ${fmt(r.fetcherCpuPct ?? Number.NaN)} | ${fmt(r.bareMBps)} | ${(r.fetchMBps / r.bareMBps).toFixed(2)} | ${r.verified} | ${fmt(r.rssPeakMB.fetcher)} / ${fmt(r.rssPeakMB.server)} |`), '',
    'CPU seconds per GiB moved, receiving process + sending process, and how both cores were used meanwhile:', '',
    '| round | MeshLink fetcher + server | bare client + server |', '|---|---|---|',
    ...loopback.rounds.map(r => `| ${r.round} | ${describeCost(r.fetchCost)} | ${describeCost(r.bareCost)} |`), '')
  if (loopback.failures.length) md.push('Failures: ' + loopback.failures.join('; '), '')
}
if (lan) {
  md.push('## 2. LAN swarm (network namespaces)', '')
  if (lan.skipped) md.push(`Skipped: ${lan.skipped}`, '')
  else {
    md.push(lan.description, '', '| scenario | aria2c MB/s | MeshLink MB/s | ratio (of medians) | byte-exact | notes |', '|---|---|---|---|---|---|')
    for (const [k, c] of Object.entries(lan.scenarios)) md.push(`| ${k} | ${range(c.aria2c)} | ${range(c.meshlink)} | ${fmt(c.ratioOfMedians)} | ${c.allVerified} | ${c.notes.join('; ')} |`)
    const cores = (m: LanRun['machine']): string => m ? `${m.busyPct.toFixed(0)} (${m.userPct.toFixed(0)} / ${m.systemPct.toFixed(0)} / ${m.softirqPct.toFixed(0)} / ${m.stealPct.toFixed(0)})` : '–'
    md.push('', 'Per run (cores: % of both cores busy during the run, split user / system / softirq / steal (time the hypervisor gave to other machines); every process of the LAN runs on them. links idle: per seeder s1..s4, % of the 10-ms slots from 0.5 s after the start to 1 s before the end in which its link carried under half its rate (in the uneven runs s1 counts against its 20 Mbit/s). received: from the downloader\'s eth0 byte counter, the time until 2 % of the bytes had arrived, the rate from 10 % to 90 %, the time after 90 %, and of that the time after 99.8 % had arrived, when the tool finished its work with the data in):', '',
      '| scenario | tool | round | MB/s | s | cores % | links idle % | received: start s / steady MB/s / tail s (after the data) | detail |', '|---|---|---|---|---|---|---|---|---|',
      ...lan.runs.map(r => `| ${r.scenario} | ${r.tool} | ${r.round} | ${fmt(r.MBps)} | ${r.seconds.toFixed(2)} | ${cores(r.machine)} | ${describeLinkIdle(r.linkIdlePct).replace(' %', '')} | ${r.phases ? `${r.phases.startS.toFixed(2)} / ${fmt(r.phases.steadyMBps)} / ${r.phases.tailS.toFixed(2)} (${r.phases.afterS.toFixed(2)})` : '–'} | ${r.detail} |`), '')
  }
}
if (incremental) {
  md.push('## 3. Incremental', '', incremental.description, '', '| change pattern | bytes moved | of tree | re-publish s | fetch s | byte-exact |', '|---|---|---|---|---|---|',
    ...incremental.patterns.map(p => `| ${p.label} | ${fmt(p.bytesMoved / 1e6)} MB | ${(100 * p.movedFraction).toFixed(2)} % | ${p.publishSeconds.toFixed(2)} | ${p.fetchSeconds.toFixed(2)} | ${p.verified} |`), '')
}
if (Object.keys(errors).length) md.push('## Errors', '', ...Object.entries(errors).map(([k, v]) => `- ${k}: \`${v.split('\n')[0]}\``), '')
if (profiles.length) {
  md.push(`## CPU profiles (node --cpu-prof, whole sidecar lifetime, in ${profDir})`, '')
  for (const p of profiles) {
    md.push(`### ${p.file}: ${fmt(p.summary.busyMs)} ms busy of ${fmt(p.summary.totalMs)} ms`, '', '| module | ms | % |', '|---|---|---|',
      ...p.summary.modules.slice(0, 10).map(m => `| ${m.module} | ${fmt(m.ms)} | ${m.pct.toFixed(1)} |`), '', '| function | module | ms | % |', '|---|---|---|---|',
      ...p.summary.functions.slice(0, 15).map(f => `| ${f.fn} | ${f.module} | ${fmt(f.ms)} | ${f.pct.toFixed(1)} |`), '')
  }
}
const jsonPath = join(RESULTS_DIR, `sync-${stamp}.json`)
const mdPath = join(RESULTS_DIR, `sync-${stamp}.md`)
writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n')
writeFileSync(mdPath, md.join('\n'))
log(`goals:\n${goals.map(g => `  ${g.met === null ? 'n/a ' : g.met ? 'MET ' : 'MISS'} ${g.name}: ${g.measured} (target ${g.target})${g.note ? ` — ${g.note}` : ''}`).join('\n')}`)
log(`saved ${jsonPath} and ${mdPath}`)
process.exit(0)
