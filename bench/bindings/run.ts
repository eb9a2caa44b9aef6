// `npm run bench:bindings`: node.status round trip from the TypeScript, Python and Go clients against
// ONE sidecar in one run, each beside its own language's bare ZeroMQ DEALER round trip.
// Per language and round, three fresh client processes (order rotated every round):
//   binding       the language's client (MeshlinkClient / meshlink.Client / meshlink.Client) -> sidecar
//   bare-echo     a bare DEALER (JSON encode, send, recv, JSON decode) -> a bare echo ROUTER that answers
//                 with a reply of the same size as node.status (bench/api/zmq-echo-router.ts)
//   bare-sidecar  the same bare DEALER -> the sidecar (separates the binding's cost from the sidecar's)
// Goal: binding p50 <= 1.5 x bare-echo p50 of the same language. Saves
// bench/results/bindings-<UTC time>.{json,md}. Options: --quick, --no-build, --rounds N.
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { installCleanupHandlers, spawnTracked, stopAll, stopTracked, type Tracked } from '../lib/child-processes.ts'
import { tempDir, removeDir, removeAllTempDirs } from '../lib/temp-dirs.ts'
import { startSidecar, type RunningSidecar } from '../lib/sidecar-process.ts'
import { median, ratio, summarize, fmt, type Summary } from '../lib/stats.ts'
import { machineInfo } from '../lib/machine-info.ts'
import { watchLoad, sampleLoad } from '../lib/cpu-busy.ts'
import { ROOT, RESULTS_DIR } from '../lib/paths.ts'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'no-build': { type: 'boolean', default: false }, rounds: { type: 'string' } } })
const quick = values.quick === true
const ROUNDS = Number(values.rounds ?? (quick ? 1 : 5))
const WARMUP = quick ? 300 : 1_000
const LAT_SECS = quick ? 0.5 : 1.5
const CLIENT_TIMEOUT_MS = 120_000
const METHOD = 'node.status'
const LANGS = ['typescript', 'python', 'go'] as const
const TARGETS = ['binding', 'bare-echo', 'bare-sidecar'] as const
type Lang = typeof LANGS[number]
type Target = typeof TARGETS[number]
interface Run { n: number, p50_us: number, p99_us: number, seq_rps: number }

const log = (s: string): void => { process.stdout.write(s + '\n') }
installCleanupHandlers()
process.on('exit', removeAllTempDirs)
const startedAt = new Date()

if (values['no-build'] !== true) {
  log('building dist/meshlink.mjs ...')
  if (spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) process.exit(1)
}

const dir = tempDir('bindings')
/** How to start one measuring client of a language. */
const clients: Record<Lang, { cmd: string, args: (o: object) => string[], label: string, skip?: string }> = {
  typescript: { cmd: process.execPath, args: (o) => [join(ROOT, 'bench', 'api', 'dealer-load.ts'), JSON.stringify(o)], label: `Node ${process.version}, zeromq.js (libzmq)` },
  python: { cmd: join(ROOT, 'bindings', 'python', '.venv', 'bin', 'python'), args: (o) => [join(ROOT, 'bench', 'bindings', 'py-load.py'), JSON.stringify(o)], label: 'CPython, pyzmq (libzmq)' },
  go: { cmd: join(dir, 'benchload'), args: (o) => [JSON.stringify(o)], label: 'Go, go-zeromq/zmq4 (pure Go)' }
}

// ---- set up the Python venv and the Go load binary (as scripts/test-bindings.mjs does for the tests)
const py = join(ROOT, 'bindings', 'python')
if (!existsSync(clients.python.cmd) || spawnSync(clients.python.cmd, ['-c', 'import meshlink, zmq']).status !== 0) {
  log('setting up bindings/python/.venv ...')
  const mk = spawnSync('python3', ['-m', 'venv', join(py, '.venv')], { stdio: 'inherit' })
  const pip = mk.status === 0 && spawnSync(clients.python.cmd, ['-m', 'pip', 'install', '-q', '-e', '.'], { cwd: py, stdio: 'inherit' }).status === 0
  if (!pip) clients.python.skip = 'could not set up bindings/python/.venv (python3 >= 3.10 with venv and pip)'
}
const pyVersion = spawnSync(clients.python.cmd, ['-c', 'import sys, zmq; print(sys.version.split()[0], zmq.__version__, zmq.zmq_version())'], { encoding: 'utf8' }).stdout?.trim().split(' ')
if (pyVersion?.length === 3) clients.python.label = `CPython ${pyVersion[0]}, pyzmq ${pyVersion[1]} (libzmq ${pyVersion[2]})`
const goBuild = spawnSync('go', ['build', '-o', clients.go.cmd, './internal/benchload'], { cwd: join(ROOT, 'bindings', 'go'), stdio: 'inherit', env: { ...process.env, GOTOOLCHAIN: 'local' } })
if (goBuild.status !== 0) clients.go.skip = 'could not build bindings/go/internal/benchload (go >= 1.22)'
else clients.go.label = `${spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim()}, go-zeromq/zmq4 (pure Go)`

async function measure (lang: Lang, o: object): Promise<Run> {
  const c = clients[lang]
  const t: Tracked = spawnTracked(`${lang} load`, c.cmd, c.args(o))
  try {
    return await t.lines.nextJson<Run>(CLIENT_TIMEOUT_MS, 'a result line')
  } finally {
    await stopTracked(t)
  }
}

let sidecar: RunningSidecar | undefined
let echo: Tracked | undefined
const runs: Record<Lang, Record<Target, Run[]>> = Object.fromEntries(LANGS.map(l => [l, { binding: [], 'bare-echo': [], 'bare-sidecar': [] }])) as never
const pairRatios: Record<Lang, number[]> = { typescript: [], python: [], go: [] }
const errors: string[] = []
const machine = machineInfo()
const before = await sampleLoad()
const during = watchLoad()
try {
  sidecar = await startSidecar(join(dir, 'state'))
  const { router, token } = sidecar.info
  // the echo ROUTER answers with as many bytes as node.status does
  const probe = await measureReplyBytes(router, token)
  const echoEp = `ipc://${join(dir, 'echo.sock')}`
  echo = spawnTracked('zmq echo router', process.execPath, [join(ROOT, 'bench', 'api', 'zmq-echo-router.ts'), echoEp, String(probe)])
  await echo.lines.nextJson(10_000, 'the bound line')
  log(`${machine.cpu}, ${machine.cores} cores; sidecar pid ${sidecar.tracked.pid}; ${METHOD} reply ${probe} B; echo router pid ${echo.pid}`)
  log(`${ROUNDS} round(s): ${WARMUP} warm-up requests, then sequential round trips for ${LAT_SECS} s, per client process`)
  const order = LANGS.flatMap(l => TARGETS.map(t => [l, t] as const))
  for (let r = 0; r < ROUNDS; r++) {
    const rotated = [...order.slice((r * 4) % order.length), ...order.slice(0, (r * 4) % order.length)]
    const round: Partial<Record<string, Run>> = {}
    for (const [lang, target] of rotated) {
      if (clients[lang].skip) continue
      const o = {
        endpoint: target === 'bare-echo' ? echoEp : router,
        token,
        method: METHOD,
        via: target === 'binding' ? 'client' : 'dealer',
        warmup: WARMUP,
        latSecs: LAT_SECS,
        tputSecs: 0.1, // dealer-load.ts also measures a window; not reported here
        window: 1
      }
      try {
        const res = await measure(lang, o)
        runs[lang][target].push(res)
        round[`${lang}/${target}`] = res
        log(`  round ${r + 1} ${lang.padEnd(10)} ${target.padEnd(12)} p50 ${res.p50_us.toFixed(0).padStart(5)} us  p99 ${res.p99_us.toFixed(0).padStart(6)} us  ${res.seq_rps.toFixed(0).padStart(6)} req/s`)
      } catch (err) {
        errors.push(`round ${r + 1} ${lang} ${target}: ${(err as Error).message}`)
        log(`  FAILED round ${r + 1} ${lang} ${target}: ${(err as Error).message.split('\n')[0]}`)
      }
    }
    for (const l of LANGS) {
      const b = round[`${l}/binding`]; const e = round[`${l}/bare-echo`]
      if (b && e) pairRatios[l].push(b.p50_us / e.p50_us)
    }
  }
} finally {
  if (echo) await stopTracked(echo)
  if (sidecar) await sidecar.stop()
  await stopAll()
  removeDir(dir)
}
const load = during()

async function measureReplyBytes (endpoint: string, token: string): Promise<number> {
  const { Dealer } = await import('zeromq')
  const d = new Dealer({ linger: 0, receiveTimeout: 5_000 })
  d.connect(endpoint)
  try {
    await d.send(JSON.stringify({ v: 1, id: 1, token, method: METHOD, params: {} }))
    const [m] = await d.receive()
    return m.byteLength
  } finally { d.close() }
}

// ---- report
const GOAL = 1.5
const sum = (rs: Run[], k: keyof Run): Summary => summarize(rs.map(x => x[k]))
const results: Record<Lang, ReturnType<typeof summarizeLang>> = Object.fromEntries(LANGS.map(l => [l, summarizeLang(l)])) as never
function summarizeLang (l: Lang) {
  const t = runs[l]
  const med = (tg: Target): number => median(t[tg].map(x => x.p50_us))
  const r = ratio(med('binding'), med('bare-echo'))
  return {
    client: clients[l].label,
    skipped: clients[l].skip ?? null,
    targets: Object.fromEntries(TARGETS.map(tg => [tg, { p50_us: sum(t[tg], 'p50_us'), p99_us: sum(t[tg], 'p99_us'), seq_rps: sum(t[tg], 'seq_rps'), runs: t[tg] }])) as Record<Target, { p50_us: Summary, p99_us: Summary, seq_rps: Summary, runs: Run[] }>,
    ratioVsBareEcho: r,
    ratioVsBareEchoPerRound: summarize(pairRatios[l]),
    ratioVsBareSidecar: ratio(med('binding'), med('bare-sidecar')),
    goalMet: Number.isFinite(r) ? r <= GOAL : null
  }
}
const report = {
  startedAt: startedAt.toISOString(),
  machine,
  method: METHOD,
  settings: { rounds: ROUNDS, warmup: WARMUP, latSecs: LAT_SECS },
  goal: `binding p50 <= ${GOAL} x the same language's bare DEALER -> echo ROUTER p50`,
  loadBefore: before,
  loadDuring: load,
  results,
  errors
}
const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')
mkdirSync(RESULTS_DIR, { recursive: true })
const jsonPath = join(RESULTS_DIR, `bindings-${stamp}.json`)
const mdPath = join(RESULTS_DIR, `bindings-${stamp}.md`)
writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n')
const cell = (s: Summary): string => s.n ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)}, n=${s.n})` : '—'
let md = `# MeshLink bindings bench, ${report.startedAt}\n\n${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.commit}; ` +
  `load ${before.load1.toFixed(2)} before; during: CPU ${load.busyPct?.toFixed(0) ?? '?'} % busy, ${load.othersPct?.toFixed(0) ?? '?'} % by other processes.\n\n` +
  `\`${METHOD}\` round trips over ipc:// to one sidecar; ${ROUNDS} round(s), a fresh client process per cell and round, ${WARMUP} warm-up requests then sequential requests for ${LAT_SECS} s. ` +
  'Cells: median over rounds (min–max). "bare" is the language\'s own ZeroMQ DEALER doing JSON encode, send, receive, JSON decode; "bare-echo" talks to a bare ROUTER answering with a reply of node.status\'s size, "bare-sidecar" to the sidecar.\n\n' +
  `## Goal: binding p50 <= ${GOAL} x bare-echo p50 (same language)\n\n| language | client | binding / bare-echo (p50) | per-round median | binding / bare-sidecar (p50) | |\n|---|---|---|---|---|---|\n`
for (const l of LANGS) {
  const r = results[l]
  md += `| ${l} | ${r.client} | ${fmt(r.ratioVsBareEcho)} | ${fmt(r.ratioVsBareEchoPerRound.median)} | ${fmt(r.ratioVsBareSidecar)} | ${r.skipped ? `skipped: ${r.skipped}` : r.goalMet === null ? 'not measured' : r.goalMet ? '**met**' : '**NOT MET**'} |\n`
}
md += '\n## Round trips\n\n| language | target | p50 µs | p99 µs | req/s (sequential) |\n|---|---|---|---|---|\n'
for (const l of LANGS) {
  for (const tg of TARGETS) {
    const t = results[l].targets[tg]
    md += `| ${l} | ${tg} | ${cell(t.p50_us)} | ${cell(t.p99_us)} | ${cell(t.seq_rps)} |\n`
  }
}
if (errors.length) md += `\n## Errors\n\n${errors.map(e => `- ${e}`).join('\n')}\n`
writeFileSync(mdPath, md)
log('\n' + md)
log(`saved ${jsonPath.replace(ROOT + '/', '')} and ${mdPath.replace(ROOT + '/', '')}`)
