// `npm run bench:forward`: issue 4's benchmark. wrk against one local HTTP server (nginx, 1 worker;
// a Node server if nginx is unavailable) directly, through MeshLink (two sidecars on loopback: the
// host shares the server's port, the guest opens a forward), through `ssh -L` (a throwaway sshd on
// 127.0.0.1), when installed through socat, and through two plain Node relays (node-relay.ts: the floor
// for a forwarder on Node's net module; both references only) -- all in one run, interleaved.
// Modes as in shared/anchors/03_portfwd.sh: 1 KiB @ -t2 -c32 (req/s, p50, p99), 1 KiB @ -t1 -c1
// (p50, p99), 10 MiB @ -t1 -c1 (MB/s); peak VmRSS of each sidecar under that load.
// Saves bench/results/forward-<UTC time>.{json,md}.
// Options: --rounds N (default 3)  --quick (1 round, short runs)  --no-build
//          --targets direct,meshlink,ssh-L,socat,node-relay  --modes small,lat,bulk
//          --cpu-prof DIR  (run both sidecars under node --cpu-prof, keep the profiles in DIR, summarize them)
//          --bundle FILE   (run the sidecars from another build, e.g. one made by experiments/patched-build.mjs)
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { installCleanupHandlers, stopAll, stopTracked, type Tracked } from '../lib/child-processes.ts'
import { tempDir, removeDir, removeAllTempDirs } from '../lib/temp-dirs.ts'
import { readMemory, SIDECAR_BUNDLE } from '../lib/sidecar-process.ts'
import { median, ratio, summarize, fmt, type Summary } from '../lib/stats.ts'
import { machineInfo } from '../lib/machine-info.ts'
import { sampleLoad, watchLoad, type MachineLoad } from '../lib/cpu-busy.ts'
import { ROOT, RESULTS_DIR } from '../lib/paths.ts'
import { cpuMeter, processTree, rssSampler } from './proc-stats.ts'
import { runWrk, type WrkResult } from './wrk.ts'
import { summarizeProfile, type ProfileSummary } from './cpuprofile-top.ts'
import {
  ensureTools, which, isRoot, fetchBody, stopTree, startNginx, startNodeServer, startSshTunnel, startSocat, startNodeRelay, startMeshlinkPair,
  type HttpServer, type SshTunnel, type NodeRelay, type MeshlinkPair
} from './setup.ts'

const ALL_TARGETS = ['direct', 'meshlink', 'ssh-L', 'socat', 'node-relay'] as const
type Target = typeof ALL_TARGETS[number]
const ALL_MODES = ['small', 'lat', 'bulk'] as const
type Mode = typeof ALL_MODES[number]

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    targets: { type: 'string' },
    modes: { type: 'string' },
    'cpu-prof': { type: 'string' },
    bundle: { type: 'string' }
  }
})
const quick = values.quick === true
const ROUNDS = Number(values.rounds ?? (quick ? 1 : 3))
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error('--rounds: 1..20')
const pick = <T extends string>(v: string | undefined, all: readonly T[], what: string): T[] => {
  const xs = (v ?? all.join(',')).split(',').map(s => s.trim()) as T[]
  for (const x of xs) if (!all.includes(x)) throw new Error(`--${what}: unknown "${x}" (${all.join(', ')})`)
  return xs
}
const wantTargets = pick(values.targets, ALL_TARGETS, 'targets')
const modes = pick(values.modes, ALL_MODES, 'modes')
const MODE: Record<Mode, { label: string, path: string, threads: number, conns: number, secs: number }> = {
  small: { label: '1 KiB, wrk -t2 -c32', path: '/1k.bin', threads: 2, conns: 32, secs: quick ? 2 : 5 },
  lat: { label: '1 KiB, wrk -t1 -c1', path: '/1k.bin', threads: 1, conns: 1, secs: quick ? 2 : 3 },
  bulk: { label: '10 MiB, wrk -t1 -c1', path: '/10m.bin', threads: 1, conns: 1, secs: quick ? 2 : 4 }
}
const RSS_GOAL_MB = 200
const profDir = values['cpu-prof'] !== undefined ? resolve(values['cpu-prof']) : undefined
const bundle = values.bundle !== undefined ? resolve(values.bundle) : undefined

if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(`bench:forward needs Node >= 22 (this is ${process.version}); run it with \`npm run bench:forward\`\n`)
  process.exit(1)
}
installCleanupHandlers()
process.on('exit', removeAllTempDirs)
const log = (s: string): void => { process.stdout.write(s + '\n') }
const startedAt = new Date()
const t0 = performance.now()

if (values['no-build'] !== true) {
  log('building dist/meshlink.mjs ...')
  if (spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) { process.stderr.write('bench:forward: the build failed\n'); process.exit(1) }
}

// ---- tools
const { paths, notes } = ensureTools(log)
for (const n of notes) log(`  ${n}`)
if (!paths.wrk) {
  process.stderr.write(`bench:forward: wrk is missing and could not be installed (${notes.join('; ') || 'not found'}); nothing to measure\n`)
  process.exit(1)
}
const skipped: Partial<Record<Target, string>> = {}
const socatPath = which('socat')
if (wantTargets.includes('socat') && !socatPath) skipped.socat = 'socat not installed (optional reference column; apt-get install socat)'
if (wantTargets.includes('ssh-L') && (!paths.sshd || !paths.ssh || !paths['ssh-keygen'])) {
  skipped['ssh-L'] = `openssh-server/openssh-client missing${isRoot() ? ' and apt-get could not install them' : ' (not root, so not installed)'}`
}

const machine = machineInfo()
const dir = tempDir('forward')
mkdirSync(join(dir, 'www'), { recursive: true })
const FILES = { '/1k.bin': randomBytes(1024), '/10m.bin': randomBytes(10 * 1024 * 1024) }
for (const [p, b] of Object.entries(FILES)) writeFileSync(join(dir, 'www', p.slice(1)), b)
if (profDir) mkdirSync(profDir, { recursive: true })

let server: HttpServer | undefined
let ssh: SshTunnel | undefined
let socat: { proc: Tracked, port: number, version: string } | undefined
let relay: NodeRelay | undefined
let mesh: MeshlinkPair | undefined
const port: Partial<Record<Target, number>> = {}
const serverNote: string[] = []

interface Sample extends WrkResult {
  target: Target
  mode: Mode
  round: number
  rps: number
  MBps: number
  /** CPU seconds per process of the forwarder (and of the HTTP server) during this wrk run. */
  cpu: Record<string, number>
  /** meshlink only: peak VmRSS (MB) of each sidecar during this run. */
  rssPeakMB?: { host: number, guest: number }
}
const samples: Sample[] = []
const errors: string[] = []
let loadBefore: MachineLoad | undefined
let loadDuring: MachineLoad | undefined
let during: (() => MachineLoad) | undefined
const sanity: Record<string, string> = {}
let memAfter: { host?: { rssMB: number, hwmMB: number }, guest?: { rssMB: number, hwmMB: number } } = {}
let memBefore: typeof memAfter = {}
const profiles: Record<string, ProfileSummary> = {}

loadBefore = await sampleLoad()
// CPU of the whole run (set-up included) and how much of it went to processes not started by the bench
during = watchLoad()
try {
  // ---- the HTTP server
  if (paths.nginx) {
    try { server = await startNginx(paths.nginx, dir) } catch (err) { serverNote.push(`nginx failed to start (${(err as Error).message.split('\n')[0]}), used the Node server instead`) }
  } else serverNote.push(`nginx unavailable (${notes.join('; ') || 'not installed'}), used the Node server instead`)
  server ??= await startNodeServer(dir)
  log(`HTTP server: ${server.kind} on 127.0.0.1:${server.port}${serverNote.length ? ` (${serverNote.join('; ')})` : ''}`)
  if (wantTargets.includes('direct')) port.direct = server.port

  // ---- the forwarders
  if (wantTargets.includes('ssh-L') && !skipped['ssh-L']) {
    try {
      ssh = await startSshTunnel(paths, dir, server.port)
      port['ssh-L'] = ssh.port
      log(`ssh -L: ${ssh.version}, cipher ${ssh.cipher}, local port ${ssh.port} (sshd pid ${ssh.sshd.pid}, ssh pid ${ssh.ssh.pid})`)
    } catch (err) { skipped['ssh-L'] = `could not set up sshd/ssh -L: ${(err as Error).message.split('\n')[0]}` }
  }
  if (wantTargets.includes('socat') && !skipped.socat) {
    try {
      socat = await startSocat(socatPath!, server.port)
      port.socat = socat.port
      log(`socat ${socat.version}: local port ${socat.port}`)
    } catch (err) { skipped.socat = `could not start socat: ${(err as Error).message.split('\n')[0]}` }
  }
  if (wantTargets.includes('node-relay')) {
    try {
      relay = await startNodeRelay(server.port)
      port['node-relay'] = relay.port
      log(`node relay (reference): guest relay pid ${relay.guest.pid} on local port ${relay.port} -> host relay pid ${relay.host.pid} -> the server`)
    } catch (err) { skipped['node-relay'] = `could not start the Node relays: ${(err as Error).message.split('\n')[0]}` }
  }
  if (wantTargets.includes('meshlink')) {
    try {
      mesh = await startMeshlinkPair(join(dir, 'ml'), server.port,
        (role) => profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${role}-\${pid}.cpuprofile`] : [], bundle)
      port.meshlink = mesh.port
      memBefore = { host: readMemory(mesh.host.tracked.pid), guest: readMemory(mesh.guest.tracked.pid) }
      log(`MeshLink${bundle ? ` (sidecars from ${bundle})` : ''}: host sidecar pid ${mesh.host.tracked.pid} shares port ${server.port}; guest sidecar pid ${mesh.guest.tracked.pid} forwards local port ${mesh.port}` +
        `${profDir ? ` (node --cpu-prof into ${profDir})` : ''}; RSS before load host ${memBefore.host?.rssMB.toFixed(1)} MB, guest ${memBefore.guest?.rssMB.toFixed(1)} MB`)
    } catch (err) { skipped.meshlink = `could not set up the two sidecars: ${(err as Error).message.split('\n')[0]}` }
  }
  for (const [t, why] of Object.entries(skipped)) log(`SKIPPED ${t}: ${why}`)
  const targets = wantTargets.filter(t => port[t] !== undefined)

  // ---- sanity: every path returns both files byte for byte
  for (const t of targets) {
    try {
      for (const [p, b] of Object.entries(FILES)) {
        const got = await fetchBody(port[t]!, p)
        if (!got.equals(b)) throw new Error(`${p}: ${got.length} bytes, not the file's ${b.length}`)
      }
      sanity[t] = 'ok'
    } catch (err) {
      sanity[t] = `FAILED: ${(err as Error).message}`
      errors.push(`sanity ${t}: ${(err as Error).message}`)
    }
  }
  log(`sanity (1 KiB and 10 MiB byte-exact): ${targets.map(t => `${t} ${sanity[t]}`).join(', ')}`)

  // CPU of each path's own processes during a run (the server's too, for scale)
  const cpuPids = (t: Target): Record<string, () => number[]> => {
    const out: Record<string, () => number[]> = { server: () => processTree(server!.proc.pid) }
    if (t === 'meshlink' && mesh) { const g = mesh.guest.tracked.pid; const h = mesh.host.tracked.pid; out['guest sidecar'] = () => [g]; out['host sidecar'] = () => [h] }
    if (t === 'ssh-L' && ssh) { const c = ssh.ssh.pid; const d = ssh.sshd.pid; out['ssh client'] = () => [c]; out.sshd = () => processTree(d) }
    if (t === 'socat' && socat) { const p = socat.proc.pid; out.socat = () => processTree(p) }
    if (t === 'node-relay' && relay) { const g = relay.guest.pid; const h = relay.host.pid; out['guest relay'] = () => [g]; out['host relay'] = () => [h] }
    return out
  }

  async function one (t: Target, m: Mode, round: number): Promise<Sample | undefined> {
    const c = MODE[m]
    const groups = cpuPids(t)
    const meters = Object.fromEntries(Object.entries(groups).map(([k, ps]) => [k, cpuMeter(ps)]))
    const rss = t === 'meshlink' && mesh ? rssSampler([mesh.host.tracked.pid, mesh.guest.tracked.pid]) : undefined
    try {
      const r = await runWrk(paths.wrk!, port[t]!, c.path, c.threads, c.conns, c.secs)
      const cpu = Object.fromEntries(Object.entries(meters).map(([k, stop]) => [k, stop()]))
      const peak = rss?.()
      const s: Sample = {
        ...r, target: t, mode: m, round, cpu,
        rps: r.requests / r.duration_us * 1e6,
        MBps: r.bytes / r.duration_us,
        ...(peak && mesh ? { rssPeakMB: { host: peak[mesh.host.tracked.pid] ?? Number.NaN, guest: peak[mesh.guest.tracked.pid] ?? Number.NaN } } : {})
      }
      if (r.errors + r.non2xx > 0) errors.push(`round ${round} ${m} ${t}: wrk counted ${r.errors} socket errors and ${r.non2xx} non-2xx replies`)
      return s
    } catch (err) {
      rss?.()
      errors.push(`round ${round} ${m} ${t}: ${(err as Error).message.split('\n')[0]}`)
      log(`  FAILED round ${round} ${m} ${t}: ${(err as Error).message.split('\n')[0]}`)
      return undefined
    }
  }

  // ---- warm-up (JIT, connections), not recorded
  log(`warm-up: 1 s of ${MODE.small.label} per target`)
  for (const t of targets) await runWrk(paths.wrk, port[t]!, '/1k.bin', 2, 32, 1).catch((err: Error) => errors.push(`warm-up ${t}: ${err.message.split('\n')[0]}`))

  log(`\n${ROUNDS} round(s); each round runs every mode for every target, target order rotated per round ` +
    `(before the run: load ${loadBefore.load1.toFixed(2)}, CPU ${loadBefore.busyPct?.toFixed(0) ?? '?'} % busy)`)
  for (let r = 1; r <= ROUNDS; r++) {
    const rot = (r - 1) % targets.length
    const order = [...targets.slice(rot), ...targets.slice(0, rot)]
    for (const m of modes) {
      for (const t of order) {
        const s = await one(t, m, r)
        if (!s) continue
        samples.push(s)
        const cpu = Object.entries(s.cpu).map(([k, v]) => `${k} ${(100 * v / (s.duration_us / 1e6)).toFixed(0)}%`).join(', ')
        log(`  round ${r} ${m.padEnd(5)} ${t.padEnd(8)} ${m === 'bulk' ? `${s.MBps.toFixed(0).padStart(6)} MB/s` : `${s.rps.toFixed(0).padStart(6)} req/s`}` +
          `  p50 ${(s.p50_us / 1000).toFixed(2)} ms  p99 ${(s.p99_us / 1000).toFixed(2)} ms  CPU: ${cpu}` +
          `${s.rssPeakMB ? `  RSS peak host ${s.rssPeakMB.host.toFixed(0)} MB, guest ${s.rssPeakMB.guest.toFixed(0)} MB` : ''}`)
      }
    }
  }
  if (mesh) {
    memAfter = { host: readMemory(mesh.host.tracked.pid), guest: readMemory(mesh.guest.tracked.pid) }
    const fl = await mesh.guestClient.call('forwards.list').catch(() => undefined)
    const f = fl?.forwards.find(x => x.id === mesh!.forwardId)
    if (f) log(`guest forward: ${f.totalConnections} connections carried, ${f.bytesIn} bytes in, ${f.bytesOut} out, ${f.connections} still open`)
  }
} finally {
  if (mesh) await mesh.stop()
  if (ssh) { await stopTracked(ssh.ssh); await stopTree(ssh.sshd) }
  if (socat) await stopTree(socat.proc)
  if (relay) { await stopTracked(relay.guest); await stopTracked(relay.host) }
  if (server) await stopTree(server.proc)
  await stopAll()
  // after stopping: the sidecars, nginx and sshd count as the bench's only once reaped
  if (during) loadDuring = during()
  removeDir(dir)
}

if (profDir && mesh) {
  for (const f of readdirSync(profDir).filter(x => x.endsWith('.cpuprofile'))) {
    try { profiles[f] = summarizeProfile(join(profDir, f), bundle ?? SIDECAR_BUNDLE, 15) } catch (err) { errors.push(`profile ${f}: ${(err as Error).message}`) }
  }
}

// ---- summary
const targetsRun = ALL_TARGETS.filter(t => samples.some(s => s.target === t))
const cell = (t: Target, m: Mode, k: keyof Sample, scale = 1): Summary =>
  summarize(samples.filter(s => s.target === t && s.mode === m).map(s => (s[k] as number) * scale))
const results = Object.fromEntries(targetsRun.map(t => [t, Object.fromEntries(modes.map(m => [m, {
  rps: cell(t, m, 'rps'), MBps: cell(t, m, 'MBps'), p50_ms: cell(t, m, 'p50_us', 1e-3), p99_ms: cell(t, m, 'p99_us', 1e-3),
  cpuPctOfCore: Object.fromEntries([...new Set(samples.filter(s => s.target === t && s.mode === m).flatMap(s => Object.keys(s.cpu)))].map(k =>
    [k, summarize(samples.filter(s => s.target === t && s.mode === m).map(s => 100 * (s.cpu[k] ?? 0) / (s.duration_us / 1e6)))]))
}]))])) as Record<Target, Record<Mode, { rps: Summary, MBps: Summary, p50_ms: Summary, p99_ms: Summary, cpuPctOfCore: Record<string, Summary> }>>

/** a/b of medians and the median of per-round a/b. */
function ratios (a: Target, b: Target, m: Mode, k: 'rps' | 'MBps' | 'p50_us' | 'p99_us'): { ofMedians: number, perRound: Summary } {
  const pick = (t: Target): Map<number, number> => new Map(samples.filter(s => s.target === t && s.mode === m).map(s => [s.round, s[k]]))
  const A = pick(a); const B = pick(b)
  const per = [...A].filter(([r]) => B.has(r)).map(([r, v]) => v / B.get(r)!)
  return { ofMedians: ratio(median([...A.values()]), median([...B.values()])), perRound: summarize(per) }
}
const has = (t: Target, m: Mode): boolean => samples.some(s => s.target === t && s.mode === m)
const rssPeak = (role: 'host' | 'guest'): number => Math.max(...samples.filter(s => s.rssPeakMB).map(s => s.rssPeakMB![role]))

interface Goal { name: string, target: string, measured: string, met: boolean | null }
const goals: Goal[] = []
const judge = (name: string, target: string, m: Mode, k: 'rps' | 'MBps' | 'p99_us', ok: (x: number) => boolean, unit: string, scale = 1): void => {
  if (!has('meshlink', m) || !has('ssh-L', m)) {
    goals.push({ name, target, measured: `— (${!has('meshlink', m) ? `MeshLink ${skipped.meshlink ?? 'not measured'}` : `ssh -L ${skipped['ssh-L'] ?? 'not measured'}`})`, met: null })
    return
  }
  const r = ratios('meshlink', 'ssh-L', m, k)
  const ml = median(samples.filter(s => s.target === 'meshlink' && s.mode === m).map(s => s[k] * scale))
  const sl = median(samples.filter(s => s.target === 'ssh-L' && s.mode === m).map(s => s[k] * scale))
  const disagree = Number.isFinite(r.perRound.median) && ok(r.perRound.median) !== ok(r.ofMedians)
  goals.push({ name, target, measured: `${fmt(r.ofMedians)} (${fmt(ml)} vs ${fmt(sl)} ${unit}); per-round median ${fmt(r.perRound.median)}${disagree ? ': the two disagree, too noisy to tell' : ''}`, met: ok(r.ofMedians) })
}
judge('1 KiB c32 req/s: MeshLink / ssh -L', '>= 1.0', 'small', 'rps', x => x >= 1, 'req/s')
judge('1 KiB c32 p99: MeshLink / ssh -L', '<= 1.0', 'small', 'p99_us', x => x <= 1, 'ms', 1e-3)
judge('10 MiB c1 MB/s: MeshLink / ssh -L', '>= 0.8', 'bulk', 'MBps', x => x >= 0.8, 'MB/s')
for (const role of ['host', 'guest'] as const) {
  const p = rssPeak(role)
  goals.push({ name: `peak VmRSS of the ${role} sidecar under load`, target: `<= ${RSS_GOAL_MB} MB`, measured: Number.isFinite(p) ? `${p.toFixed(1)} MB (VmHWM at the end ${memAfter[role]?.hwmMB.toFixed(1) ?? '?'} MB)` : '—', met: Number.isFinite(p) ? p <= RSS_GOAL_MB : null })
}

const report = {
  startedAt: startedAt.toISOString(),
  durationS: (performance.now() - t0) / 1000,
  machine,
  server: server?.kind ?? null,
  serverNote,
  ssh: ssh ? { version: ssh.version, cipher: ssh.cipher } : null,
  socat: socat?.version ?? null,
  settings: { rounds: ROUNDS, modes: Object.fromEntries(modes.map(m => [m, MODE[m]])), targets: wantTargets, cpuProf: profDir ?? null, bundle: bundle ?? null },
  toolNotes: notes,
  skipped,
  sanity,
  loadBefore,
  loadDuring,
  goals,
  results,
  ratiosToDirect: Object.fromEntries(targetsRun.filter(t => t !== 'direct').map(t => [t, Object.fromEntries(modes.filter(m => has(t, m) && has('direct', m)).map(m =>
    [m, { rpsOrMBps: ratios(t, 'direct', m, m === 'bulk' ? 'MBps' : 'rps'), p50: ratios(t, 'direct', m, 'p50_us'), p99: ratios(t, 'direct', m, 'p99_us') }]))])),
  ratiosToSsh: has('meshlink', 'small') || has('meshlink', 'bulk')
    ? Object.fromEntries(modes.filter(m => has('meshlink', m) && has('ssh-L', m)).map(m => [m, { rpsOrMBps: ratios('meshlink', 'ssh-L', m, m === 'bulk' ? 'MBps' : 'rps'), p50: ratios('meshlink', 'ssh-L', m, 'p50_us'), p99: ratios('meshlink', 'ssh-L', m, 'p99_us') }]))
    : {},
  sidecarMemory: { beforeLoad: memBefore, afterLoad: memAfter, peakUnderLoadMB: { host: rssPeak('host'), guest: rssPeak('guest') } },
  profiles,
  errors,
  samples
}

// ---- markdown
const rng = (s: Summary | undefined): string => !s || s.n === 0 ? '—' : s.n === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`
const LABEL: Record<Target, string> = { direct: 'direct', meshlink: 'MeshLink', 'ssh-L': 'ssh -L', socat: 'socat (reference)', 'node-relay': 'Node relay (reference)' }
const md: string[] = []
md.push(`# MeshLink forward bench, ${report.startedAt}`, '')
md.push(`${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}, commit ${machine.commit}${machine.sidecarDirty ? ' (sidecar/ had uncommitted changes)' : ''}. ` +
  `${bundle ? `**Sidecars ran ${bundle}, not dist/meshlink.mjs.** ` : ''}HTTP server: ${report.server ?? '?'}${serverNote.length ? ` (${serverNote.join('; ')})` : ''}. ` +
  `${ssh ? `ssh -L: ${ssh.version}, cipher ${ssh.cipher}. ` : ''}${socat ? `socat ${socat.version} (fork per connection). ` : ''}` +
  `wrk ${spawnSync(paths.wrk, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' [')[0]}. Run took ${report.durationS.toFixed(0)} s.`, '')
md.push(`${ROUNDS} interleaved round(s): every round runs each mode against every target, target order rotated per round; one 1 s warm-up per target first. ` +
  `Machine before: load ${loadBefore?.load1.toFixed(2) ?? '?'}, CPU ${loadBefore?.busyPct?.toFixed(0) ?? '?'} % busy; during the whole run: CPU ${loadDuring?.busyPct?.toFixed(0) ?? '?'} % busy (all cores), ` +
  `of which ${loadDuring?.othersPct?.toFixed(0) ?? '?'} % by processes other than the bench's. wrk, the server and the forwarders share the 2 cores. Cells: median (min–max) over rounds.`, '')
for (const [t, why] of Object.entries(skipped)) md.push(`**${LABEL[t as Target]} skipped:** ${why}`, '')
md.push('## Goals (MeshLink vs ssh -L, same run)', '', '| goal | target | measured | |', '|---|---|---|---|')
for (const g of goals) md.push(`| ${g.name} | ${g.target} | ${g.measured} | ${g.met === null ? 'not measured' : g.met ? '**met**' : '**NOT met**'} |`)
md.push('')
md.push('## Results', '', '| target | 1 KiB c32 req/s | c32 p50 ms | c32 p99 ms | 1 KiB c1 req/s | c1 p50 ms | c1 p99 ms | 10 MiB c1 MB/s |', '|---|---|---|---|---|---|---|---|')
for (const t of targetsRun) {
  const r = results[t]
  md.push(`| ${LABEL[t]} | ${rng(r.small?.rps)} | ${rng(r.small?.p50_ms)} | ${rng(r.small?.p99_ms)} | ${rng(r.lat?.rps)} | ${rng(r.lat?.p50_ms)} | ${rng(r.lat?.p99_ms)} | ${rng(r.bulk?.MBps)} |`)
}
md.push('', 'MB = 10^6 bytes. Reference on this machine kind (shared/anchors, idle): direct ~55,600 req/s; ssh -L ~20,500 req/s, p99 37 ms; socat ~22,200 req/s; c1 ssh -L p50 0.25 ms.', '')
md.push('### Ratios (of medians; per-round median in brackets)', '', '| | 1 KiB c32 req/s | c32 p50 | c32 p99 | c1 p50 | c1 p99 | 10 MiB MB/s |', '|---|---|---|---|---|---|---|')
const rc = (x: { ofMedians: number, perRound: Summary } | undefined): string => x ? `${fmt(x.ofMedians)} [${fmt(x.perRound.median)}]` : '—'
const row = (label: string, a: Target, b: Target): void => {
  if (!targetsRun.includes(a) || !targetsRun.includes(b)) return
  const q = (m: Mode, k: 'rps' | 'MBps' | 'p50_us' | 'p99_us'): string => has(a, m) && has(b, m) ? rc(ratios(a, b, m, k)) : '—'
  md.push(`| ${label} | ${q('small', 'rps')} | ${q('small', 'p50_us')} | ${q('small', 'p99_us')} | ${q('lat', 'p50_us')} | ${q('lat', 'p99_us')} | ${q('bulk', 'MBps')} |`)
}
row('MeshLink / ssh -L', 'meshlink', 'ssh-L')
row('MeshLink / direct', 'meshlink', 'direct')
row('ssh -L / direct', 'ssh-L', 'direct')
row('socat / direct', 'socat', 'direct')
row('MeshLink / socat', 'meshlink', 'socat')
row('Node relay / ssh -L', 'node-relay', 'ssh-L')
row('MeshLink / Node relay', 'meshlink', 'node-relay')
md.push('')
md.push('### CPU of each path\'s processes during its runs (% of one core, median)', '', '| target | mode | processes |', '|---|---|---|')
for (const t of targetsRun) {
  for (const m of modes) {
    const c = results[t][m]?.cpuPctOfCore
    if (c) md.push(`| ${LABEL[t]} | ${MODE[m].label} | ${Object.entries(c).map(([k, s]) => `${k} ${fmt(s.median)}`).join(', ')} |`)
  }
}
md.push('')
if (mesh) {
  md.push('### Sidecar memory', '', '| sidecar | VmRSS before load | peak VmRSS during 1 KiB c32 | during c1 | during 10 MiB | VmRSS after | VmHWM after |', '|---|---|---|---|---|---|---|')
  for (const role of ['host', 'guest'] as const) {
    const pk = (m: Mode): string => { const v = samples.filter(s => s.mode === m && s.rssPeakMB).map(s => s.rssPeakMB![role]); return v.length ? Math.max(...v).toFixed(1) : '—' }
    md.push(`| ${role} | ${memBefore[role]?.rssMB.toFixed(1) ?? '?'} MB | ${pk('small')} | ${pk('lat')} | ${pk('bulk')} | ${memAfter[role]?.rssMB.toFixed(1) ?? '?'} | ${memAfter[role]?.hwmMB.toFixed(1) ?? '?'} |`)
  }
  md.push('', 'RSS sampled from /proc/<pid>/status every 100 ms during each MeshLink run; MB = 10^6 bytes.', '')
}
md.push(`Sanity (both files byte-exact through each path before measuring): ${Object.entries(sanity).map(([t, v]) => `${t} ${v}`).join(', ')}.`, '')
if (Object.keys(profiles).length) {
  md.push(`## CPU profiles (node --cpu-prof, whole sidecar lifetime, in ${profDir})`, '')
  for (const [f, p] of Object.entries(profiles)) {
    md.push(`**${f}**: ${p.busyMs.toFixed(0)} ms busy of ${p.totalMs.toFixed(0)} ms sampled. Self time by module (% of busy): ` +
      p.modules.slice(0, 10).map(m => `${m.module} ${m.pct.toFixed(1)}`).join('; ') + '. Top functions: ' +
      p.functions.slice(0, 10).map(x => `${x.fn} ${x.pct.toFixed(1)}`).join('; ') + '.', '')
  }
}
if (errors.length) md.push('## Errors', '', ...errors.map(e => `- ${e}`), '')

const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')
mkdirSync(RESULTS_DIR, { recursive: true })
const jsonPath = join(RESULTS_DIR, `forward-${stamp}.json`)
const mdPath = join(RESULTS_DIR, `forward-${stamp}.md`)
writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n')
writeFileSync(mdPath, md.join('\n'))
log('\n' + md.join('\n'))
log(`saved ${jsonPath.replace(ROOT + '/', '')} and ${mdPath.replace(ROOT + '/', '')}`)
