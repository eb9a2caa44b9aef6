// `npm run bench`: MeshLink's benchmark. Three phases in one run, each side by side with its
// baseline: API round trip (sidecar vs bare ZeroMQ), bulk streams (member vs plain libp2p),
// start-up time and idle RSS. Prints as it goes; saves bench/results/<time>.{json,md} and latest.md.
// Options: --only api,bulk,startup   --no-build   --quick (fewer rounds, for trying changes)
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { installCleanupHandlers, stopAll } from './lib/child-processes.ts'
import { machineInfo } from './lib/machine-info.ts'
import { removeAllTempDirs } from './lib/temp-dirs.ts'
import { sampleLoad, watchLoad, type MachineLoad } from './lib/cpu-busy.ts'
import { judgeGoals, saveReport, type BenchReport } from './lib/report.ts'
import { ROOT } from './lib/paths.ts'
import { runApiBench, type ApiBenchResult } from './api/api-bench.ts'
import { runBulkBench, type BulkBenchResult } from './bulk/bulk-bench.ts'
import { runStartupBench, type StartupBenchResult } from './startup/startup-bench.ts'

const PHASES = ['api', 'bulk', 'startup'] as const
type Phase = typeof PHASES[number]

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false }
  }
})
const only = new Set((values.only ?? PHASES.join(',')).split(',').map(s => s.trim()))
for (const p of only) if (!PHASES.includes(p as Phase)) throw new Error(`--only: unknown phase "${p}" (api, bulk, startup)`)
const quick = values.quick === true

if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(`bench: needs Node >= 22 (this is ${process.version}); run it with \`npm run bench\`\n`)
  process.exit(1)
}
installCleanupHandlers()
process.on('exit', removeAllTempDirs)

const log = (line: string): void => { process.stdout.write(line + '\n') }
const startedAt = new Date()
const t0 = performance.now()

if (values['no-build'] !== true) {
  // measure the current tree: the sidecar under test is the bundle, so rebuild it first
  log('building dist/meshlink.mjs ...')
  const b = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' })
  if (b.status !== 0) { process.stderr.write('bench: the build failed\n'); process.exit(1) }
}

const machine = machineInfo()
log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.commit}${machine.sidecarDirty ? ' (sidecar/ modified)' : ''}, load ${machine.load1.toFixed(2)}`)

const phaseErrors: Record<string, string> = {}
const loadBefore: Record<string, MachineLoad> = {}
const loadDuring: Record<string, MachineLoad> = {}
const pct = (x: number | null): string => x === null ? '?' : x.toFixed(0)
async function phase<T> (name: Phase, title: string, fn: () => Promise<T>): Promise<T | null> {
  if (!only.has(name)) return null
  const before = loadBefore[name] = await sampleLoad()
  log(`\n== ${title} (before: load ${before.load1.toFixed(2)}, CPU ${pct(before.busyPct)} % busy)`)
  const done = watchLoad()
  try {
    return await fn()
  } catch (err) {
    phaseErrors[name] = (err as Error).stack ?? String(err)
    log(`  PHASE FAILED: ${(err as Error).message}`)
    await stopAll()
    return null
  } finally {
    const during = loadDuring[name] = done()
    log(`  during the phase: CPU ${pct(during.busyPct)} % busy (of all cores), other processes ${pct(during.othersPct)} %`)
  }
}

let api: ApiBenchResult | null = null
let bulk: BulkBenchResult | null = null
let startup: StartupBenchResult | null = null
try {
  api = await phase('api', '1. API round trip: sidecar vs bare ZeroMQ ROUTER over ipc', () => runApiBench({
    rounds: quick ? 1 : 5, warmup: 2_000, latSecs: quick ? 0.5 : 1.5, tputSecs: quick ? 0.5 : 1, window: 64, log
  }))
  bulk = await phase('bulk', '2. Bulk streams: member (createMeshNode) vs plain noise+yamux', () => runBulkBench({
    totalMiB: 128, streams: [1, 4], rounds: quick ? 2 : 11, budgetMs: quick ? 30_000 : 80_000, log
  }))
  startup = await phase('startup', '3. Start-up to API ready, idle RSS', () => runStartupBench({
    runs: quick ? 2 : 6, settleMs: 5_000, log
  }))
} finally {
  await stopAll()
}

const report: BenchReport = {
  startedAt: startedAt.toISOString(),
  durationS: (performance.now() - t0) / 1000,
  machine,
  goals: judgeGoals(api, bulk, startup),
  api,
  bulk,
  startup,
  loadBefore,
  loadDuring,
  phaseErrors
}
const files = saveReport(report)
log('\n== Goals')
for (const g of report.goals) log(`  ${g.met === null ? 'not measured' : g.met ? 'met    ' : 'NOT MET'}  ${g.name}: ${g.measured} (target ${g.target})`)
log(`\nsaved ${files.json.replace(ROOT + '/', '')}, ${files.md.replace(ROOT + '/', '')} and ${files.latest.replace(ROOT + '/', '')} (${report.durationS.toFixed(0)} s)`)
