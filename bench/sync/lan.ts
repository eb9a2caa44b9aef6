// Phase 2: a LAN swarm in network namespaces (test/lab/lab-net.ts: one bridge namespace, one namespace
// per host), the topology of /work/shared/anchors/06_multisource_lan.sh: 4 seeder hosts, each with
// egress `tc qdisc ... tbf rate 100mbit burst 32kb latency 50ms` on its eth0, one downloader. Every
// seeder host runs nginx (1 worker, sendfile) serving the file AND a seeder sidecar holding the same
// file as an artifact (published on each seeder: the id is content-derived, so all four match). The
// downloader runs `aria2c -s4 -x4 -k1M` on the 4 URLs (as the anchor) or `artifacts.fetch` on its own
// sidecar. Scenarios: equal (4 x 100 Mbit/s), uneven (seeder 1 at 20 Mbit/s), kill (seeder 1's
// nginx / sidecar SIGKILLed when the downloader's eth0 has received half the file's bytes, read from
// /proc/<downloader sidecar pid>/net/dev; the same trigger for both tools). Every output is compared
// byte for byte (SHA-256) with the source.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, labUnavailable, type Lab } from '../../test/lab/lab-net.ts'
import { spawnTracked, stopTracked, sleep, type Tracked } from '../lib/child-processes.ts'
import { summarize, median, ratio, type Summary } from '../lib/stats.ts'
import { watchCpuShares, describeShares, type CpuShares } from '../lib/cpu-busy.ts'
import { which } from '../forward/setup.ts'
import { processTree, cpuSeconds } from '../forward/proc-stats.ts'
import { watchRxPhases, describePhases, type RxPhases } from '../lib/rx-phases.ts'
import { watchLinkIdle } from '../lib/link-idle.ts'
import { bigTempDir, removeBigDir, writeRandomFile, sameTree, startSidecar, formMesh, publish, seesArtifact, waitTransfer, rxBytes, txBytes, until, type Log, type Sidecar } from './common.ts'

export interface LanScenario { aria2c: Summary, meshlink: Summary, ratioOfMedians: number, allVerified: boolean, meshlinkFailures: number, notes: string[] }
/** One fetch; `machine`: how the two cores were used meanwhile (every process of the LAN runs on them). */
export interface LanRun {
  scenario: string, tool: string, round: number, MBps: number, seconds: number, ok: boolean, verified: boolean, detail: string, machine?: CpuShares, phases?: RxPhases
  /** Per seeder (s1..s4): % of the middle 10-ms slots its link carried under half its rate (bench/lib/link-idle.ts); undefined once gone. */
  linkIdlePct?: Array<number | undefined>
}
export interface LanResult { skipped?: string, description: string, scenarios: Record<string, LanScenario>, runs: LanRun[], setup?: Record<string, unknown> }

const SEEDERS = ['s1', 's2', 's3', 's4']
const TBF = (rate: string): string[] => ['root', 'tbf', 'rate', rate, 'burst', '32kb', 'latency', '50ms']
const RUN_TIMEOUT_MS = 120_000

/** "0.4 / 1.2 / – / 0.3 %" (per seeder; – where the link was gone or the run too short). */
export function describeLinkIdle (pcts: Array<number | undefined> | undefined): string {
  return pcts ? `${pcts.map(p => p === undefined ? '–' : p.toFixed(1)).join(' / ')} %` : '–'
}

function sh (cmd: string, args: string[], timeout = 20_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout })
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`)
  return r.stdout
}

function ensureTools (log: Log): string | undefined {
  const missing = [['aria2c', 'aria2'], ['nginx', 'nginx-light'], ['tc', 'iproute2'], ['curl', 'curl']].filter(([b]) => which(b) === null)
  if (missing.length === 0) return undefined
  const pkgs = missing.map(([, p]) => p)
  log(`  installing ${pkgs.join(' ')} with apt-get ...`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = (): boolean => spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env, timeout: 600_000 }).status === 0
  if (!install()) { spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env, timeout: 300_000 }); install() }
  const still = missing.filter(([b]) => which(b) === null).map(([b]) => b)
  return still.length ? `missing ${still.join(', ')} (apt-get install failed)` : undefined
}

const sha256File = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

export async function runLan (o: { sizeMiB: number, rounds: number, nodeArgs: (role: string) => string[], log: Log }): Promise<LanResult> {
  const empty = (skipped: string): LanResult => ({ skipped, description: '', scenarios: {}, runs: [] })
  const why = labUnavailable()
  if (why) { o.log(`  SKIPPED: the LAN phase needs network namespaces: ${why}`); return empty(why) }
  const toolProblem = ensureTools(o.log)
  if (toolProblem) { o.log(`  SKIPPED: ${toolProblem}`); return empty(toolProblem) }
  const size = o.sizeMiB * 1024 * 1024
  const dir = bigTempDir('lan', size * 9)
  let lab: Lab | undefined
  const nginxes: Record<string, Tracked> = {}
  const seeders: Record<string, Sidecar> = {}
  let dl: Sidecar | undefined
  try {
    lab = createLab(`mls${process.pid % 100000}`, ['dl', ...SEEDERS])
    const H = lab.hosts
    const inNs = (h: string, args: string[]): string => sh('ip', ['netns', 'exec', H[h].netns, ...args])
    /** Each seeder's egress cap (bytes/s on the wire), as set now. */
    const linkRate: Record<string, number> = {}
    const setRate = (h: string, rate: string, op: 'add' | 'change'): void => {
      inNs(h, ['tc', 'qdisc', op, 'dev', 'eth0', ...TBF(rate)])
      linkRate[h] = Number(/^(\d+)mbit$/.exec(rate)![1]) * 1e6 / 8
    }
    /** Watches the seeders' links while the processes `pidOf` gives (in their namespaces) send. */
    const watchSeederLinks = (pidOf: (s: string) => number): (() => Array<number | undefined>) =>
      watchLinkIdle(SEEDERS.map(s => { const pid = pidOf(s); return { sent: () => txBytes(pid), bytesPerSec: linkRate[s] } }))
    for (const s of SEEDERS) setRate(s, '100mbit', 'add')
    o.log(`  lab: downloader ${H.dl.addr}, seeders ${SEEDERS.map(s => H[s].addr).join(' ')} (tbf 100mbit each); data in ${dir}`)
    const www = join(dir, 'www')
    mkdirSync(www)
    const file = join(www, 'f.bin')
    writeRandomFile(file, size)
    const sum = sha256File(file)
    // nginx per seeder, bound to its lab address
    for (const s of SEEDERS) {
      const nd = join(dir, `nginx-${s}`)
      mkdirSync(join(nd, 'tmp'), { recursive: true })
      writeFileSync(join(nd, 'nginx.conf'), `user root; worker_processes 1; daemon off; pid ${nd}/nginx.pid; error_log ${nd}/err.log warn;
events { worker_connections 256; }
http { access_log off; sendfile on; tcp_nopush on; types { application/octet-stream bin; }
  client_body_temp_path ${nd}/tmp/cb; proxy_temp_path ${nd}/tmp/p; fastcgi_temp_path ${nd}/tmp/f; uwsgi_temp_path ${nd}/tmp/u; scgi_temp_path ${nd}/tmp/s;
  server { listen ${H[s].addr}:80; root ${www}; } }
`)
      nginxes[s] = spawnTracked(`nginx ${s}`, 'ip', ['netns', 'exec', H[s].netns, which('nginx')!, '-e', join(nd, 'err.log'), '-p', nd, '-c', join(nd, 'nginx.conf')])
    }
    for (const s of SEEDERS) {
      await until(async () => spawnSync('ip', ['netns', 'exec', H.dl.netns, 'curl', '-sf', '-o', '/dev/null', '-r', '0-0', `http://${H[s].addr}/f.bin`], { timeout: 5_000 }).status === 0, `nginx on ${s}`, 10_000, 100)
    }
    // sidecars: one per seeder host and the downloader, all in one mesh (invite of seeder 1)
    for (const s of SEEDERS) seeders[s] = await startSidecar({ label: `seeder-${s}`, stateDir: join(dir, `state-${s}`), listen: `/ip4/${H[s].addr}/tcp/4455`, netns: H[s].netns, nodeArgs: o.nodeArgs(`seeder-${s}`) })
    dl = await startSidecar({ label: 'downloader', stateDir: join(dir, 'state-dl'), listen: `/ip4/${H.dl.addr}/tcp/4455`, netns: H.dl.netns, nodeArgs: o.nodeArgs('downloader') })
    await formMesh(seeders.s1, [...SEEDERS.slice(1).map(s => seeders[s]), dl])
    const ids = new Set<string>()
    const pubSecs: number[] = []
    for (const s of SEEDERS) { const p = await publish(seeders[s], www, 'bench-lan@main'); ids.add(p.id); pubSecs.push(p.seconds) }
    if (ids.size !== 1) throw new Error(`the four seeders published different ids: ${[...ids].join(', ')}`)
    const id = [...ids][0]
    await seesArtifact(dl, id, 4, 30_000)
    o.log(`  artifact ${id.slice(0, 12)} published on the 4 seeders (${pubSecs.map(x => x.toFixed(1)).join(', ')} s), the downloader sees 4 holders; sha256 ${sum.slice(0, 16)}...`)
    const dlPid = dl.tracked.pid
    // CPU seconds of every sidecar (a killed seeder counts as its last reading)
    const lastCpu: Record<string, number> = {}
    const cpuOfSidecars = (): Record<string, number> => {
      for (const [k, sc] of [['dl', dl!], ...SEEDERS.map(s => [s, seeders[s]] as const)] as Array<[string, Sidecar]>) {
        const c = cpuSeconds(sc.tracked.pid)
        if (!Number.isNaN(c)) lastCpu[k] = c
      }
      return { ...lastCpu }
    }
    const half = size / 2
    const runs: LanRun[] = []
    // a warm-up fetch (32 MiB from the four seeders) before the measured runs, as the loopback phase
    // does: the measured fetches then run in warm processes (optimized JIT code), as in a sidecar that
    // has been up for a while; aria2c is native code and needs none
    {
      const warmSrc = join(dir, 'warm-src')
      mkdirSync(warmSrc)
      writeRandomFile(join(warmSrc, 'w.bin'), 32 * 1024 * 1024)
      let warmId = ''
      for (const s of SEEDERS) warmId = (await publish(seeders[s], warmSrc, 'bench-lan-warm-up@main')).id
      await seesArtifact(dl, warmId, 4, 30_000)
      const { transfer } = await dl.client.call('artifacts.fetch', { artifact: warmId, out: join(dir, 'warm-out') })
      const { t } = await waitTransfer(dl, transfer.id, RUN_TIMEOUT_MS)
      if (t.state !== 'done') o.log(`  (warm-up fetch ${t.state}: ${JSON.stringify(t.error)})`)
      rmSync(join(dir, 'warm-out'), { recursive: true, force: true })
      await dl.client.call('artifacts.remove', { artifact: warmId })
      for (const s of SEEDERS) await seeders[s].client.call('artifacts.remove', { artifact: warmId })
    }

    const aria = async (scenario: string, round: number, kill: boolean): Promise<LanRun> => {
      const out = join(dir, 'aria-out')
      rmSync(out, { recursive: true, force: true }); mkdirSync(out)
      const rx0 = rxBytes(dlPid)
      const cpu = watchCpuShares()
      const phases = watchRxPhases(() => rxBytes(dlPid))
      const links = watchSeederLinks(s => nginxes[s].pid)
      const t0 = performance.now()
      const p = spawnTracked('aria2c', 'ip', ['netns', 'exec', H.dl.netns, which('aria2c')!, '-q', '-s4', '-x4', '-k1M', '--file-allocation=none', '--allow-overwrite=true',
        '--auto-file-renaming=false', `--dir=${out}`, '-o', 'f.bin', ...SEEDERS.map(s => `http://${H[s].addr}/f.bin`)])
      let killedAt: number | undefined
      let code: number | string | null | undefined
      p.exited.then(c => { code = c }, () => {})
      const end = Date.now() + RUN_TIMEOUT_MS
      while (code === undefined && Date.now() < end) {
        if (kill && killedAt === undefined && rxBytes(dlPid) - rx0 >= half) {
          for (const pid of processTree(nginxes.s1.pid).reverse()) try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
          killedAt = (performance.now() - t0) / 1000
        }
        await sleep(20)
      }
      if (code === undefined) { await stopTracked(p, 1_000); code = 'timeout' }
      const secs = (performance.now() - t0) / 1000
      const machine = cpu()
      const ph = phases()
      const linkIdlePct = links()
      const ok = code === 0
      const verified = ok && existsSync(join(out, 'f.bin')) && sha256File(join(out, 'f.bin')) === sum
      rmSync(out, { recursive: true, force: true })
      return { scenario, tool: 'aria2c', round, MBps: ok ? size / 1e6 / secs : Number.NaN, seconds: secs, ok, verified, machine, phases: ph, linkIdlePct, detail: `exit ${code}${killedAt !== undefined ? `; nginx s1 killed at ${killedAt.toFixed(2)} s` : ''}${ok ? '' : `; ${p.stderr().slice(-300)}`}` }
    }

    const mesh = async (scenario: string, round: number, kill: boolean): Promise<LanRun> => {
      const out = join(dir, 'ml-out')
      rmSync(out, { recursive: true, force: true })
      const rx0 = rxBytes(dlPid)
      let killedAt: number | undefined
      const cpu0 = cpuOfSidecars()
      const cpu = watchCpuShares()
      const phases = watchRxPhases(() => rxBytes(dlPid))
      const links = watchSeederLinks(s => seeders[s].tracked.pid)
      const t0 = performance.now()
      const { transfer } = await dl!.client.call('artifacts.fetch', { artifact: id, out })
      const killer = kill
        ? (async () => {
            const end = Date.now() + RUN_TIMEOUT_MS
            while (killedAt === undefined && Date.now() < end) {
              if (rxBytes(dlPid) - rx0 >= half) { killedAt = (performance.now() - t0) / 1000; await seeders.s1.stop('SIGKILL'); break }
              await sleep(20)
            }
          })()
        : Promise.resolve()
      let t; let at
      try { ({ t, at } = await waitTransfer(dl!, transfer.id, RUN_TIMEOUT_MS)) } finally { killedAt ??= -1; await killer }
      const secs = (at - t0) / 1000
      const machine = cpu()
      const ph = phases()
      const linkIdlePct = links()
      const cpu1 = cpuOfSidecars()
      const ok = t.state === 'done'
      const verified = ok && sameTree(www, out)
      rmSync(out, { recursive: true, force: true })
      try { await dl!.client.call('artifacts.remove', { artifact: id }) } catch (err) { o.log(`  (artifacts.remove on the downloader: ${(err as Error).message})`) }
      const peers = t.peers.map(p => `${p.name}: ${(p.bytes / 1e6).toFixed(0)} MB ${p.state}`).join(', ')
      return { scenario, tool: 'MeshLink', round, MBps: ok ? size / 1e6 / secs : Number.NaN, seconds: secs, ok, verified, machine, phases: ph, linkIdlePct, detail: `${t.state}${ok ? '' : ` ${JSON.stringify(t.error)}`}; from peers ${(t.bytesFromPeers / 1e6).toFixed(0)} MB (${peers})${killedAt !== undefined && killedAt >= 0 ? `; sidecar s1 killed at ${killedAt.toFixed(2)} s` : ''}; CPU s downloader ${(cpu1.dl - cpu0.dl).toFixed(2)}, seeders ${SEEDERS.map(s => (cpu1[s] - cpu0[s]).toFixed(2)).join('/')}` }
    }

    const one = async (scenario: string, round: number, kill = false): Promise<void> => {
      const order = round % 2 === 1 ? [aria, mesh] : [mesh, aria]
      if (kill) order.reverse() // aria2c first would leave s1's nginx dead... both kill different processes: any order works
      for (const f of order) {
        const r = await f(scenario, round, kill)
        runs.push(r)
        const m = r.machine
        o.log(`  ${scenario} round ${round} ${r.tool}: ${r.ok ? `${r.MBps.toFixed(1)} MB/s` : 'FAILED'} (${r.seconds.toFixed(2)} s, ${r.verified ? 'byte-exact' : 'NOT verified'}) ${r.detail}` +
          (m ? `; cores ${describeShares(m)}` : '') +
          `; received: ${describePhases(r.phases)}; links idle ${describeLinkIdle(r.linkIdlePct)}`)
      }
    }
    for (let r = 1; r <= o.rounds; r++) await one('equal', r)
    setRate('s1', '20mbit', 'change')
    for (let r = 1; r <= o.rounds; r++) await one('uneven', r)
    setRate('s1', '100mbit', 'change')
    await one('kill', 1, true)

    const scenarios: Record<string, LanScenario> = {}
    for (const sc of ['equal', 'uneven', 'kill']) {
      const rs = runs.filter(r => r.scenario === sc)
      const a = summarize(rs.filter(r => r.tool === 'aria2c' && r.ok).map(r => r.MBps))
      const m = summarize(rs.filter(r => r.tool === 'MeshLink' && r.ok).map(r => r.MBps))
      scenarios[sc] = {
        aria2c: a,
        meshlink: m,
        ratioOfMedians: ratio(median(m.values), median(a.values)),
        allVerified: rs.every(r => !r.ok || r.verified),
        meshlinkFailures: rs.filter(r => r.tool === 'MeshLink' && (!r.ok || !r.verified)).length,
        notes: rs.filter(r => !r.ok).map(r => `${r.tool} round ${r.round} failed: ${r.detail.slice(0, 200)}`)
      }
    }
    const goodput = 4 * 12.5 * 1448 / 1514
    return {
      description: `${o.sizeMiB} MiB file (pseudo-random), one per seeder host as nginx file and as a MeshLink artifact. Nominal limit 4 x 12.5 = 50 MB/s, TCP goodput limit ~${goodput.toFixed(1)} MB/s (equal); uneven: 2.5 + 3 x 12.5 = 40 MB/s nominal. aria2c: \`aria2c -q -s4 -x4 -k1M --file-allocation=none\` on the 4 URLs (Debian aria2). MeshLink: \`artifacts.fetch\` on the downloader's sidecar, timed from the call to the transfer's end (its transfer.done event); the artifact is removed from the downloader's store after each run. Kill: seeder 1's nginx (master and worker) or seeder sidecar SIGKILLed once the downloader's eth0 has received ${o.sizeMiB / 2} MiB. A warm-up fetch of a 32 MiB artifact from the 4 seeders runs before the measured runs (warm JIT in the sidecars). ${o.rounds} round(s) of equal and uneven (tool order alternates), one kill round. Data on ${dir.split('/').slice(0, -1).join('/')}.`,
      scenarios,
      runs,
      setup: { publishSeconds: pubSecs, artifact: id }
    }
  } finally {
    await dl?.stop()
    for (const s of Object.values(seeders)) await s.stop()
    for (const n of Object.values(nginxes)) await stopTracked(n, 3_000)
    lab?.destroy()
    removeBigDir(dir)
  }
}
