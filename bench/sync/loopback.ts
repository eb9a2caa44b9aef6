// Phase 1: one peer over loopback. A publishes a 1 GiB tree, B fetches it (fresh each round: the
// artifact is removed from B's store after every round), beside a bare libp2p stream between two
// processes (bench/bulk/bulk-peer.ts "plain": createLibp2p(tcp, noise(), yamux()), one stream,
// 256 KiB writes with backpressure, the receiver acks the byte count) moving the same number of
// bytes, rounds interleaved. Peak RSS of both sidecars: VmHWM over their whole life (publish included)
// and VmRSS sampled every 100 ms during the fetches. Both get a 128 MiB warm-up first (a bare transfer,
// a fetch of another artifact).
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { spawnTracked, stopTracked, type Tracked } from '../lib/child-processes.ts'
import { readMemory } from '../lib/sidecar-process.ts'
import { cpuSeconds as cpuSecondsOf } from '../forward/proc-stats.ts'
import { summarize, median, ratio, type Summary } from '../lib/stats.ts'
import { watchCpuShares, describeShares, type CpuShares } from '../lib/cpu-busy.ts'
import type { MeasureResult } from '../bulk/bulk-protocol.ts'
import { bigTempDir, removeBigDir, makeTree, sameTree, startSidecar, formMesh, publish, seesArtifact, waitTransfer, sampleRss, type Log, type Sidecar } from './common.ts'

export interface LoopbackOptions { totalMiB: number, files: number, rounds: number, nodeArgs: (role: string) => string[], log: Log }

/** CPU seconds per GiB moved by the receiving and the sending process, and how both cores were used meanwhile. */
export interface SideCost { receiverCpuSPerGiB: number, senderCpuSPerGiB: number, cores?: CpuShares }

export interface LoopbackRound { round: number, fetchMBps: number, fetchSeconds: number, bareMBps: number, bareSeconds: number, verified: boolean, bytesFromPeers: number, rssPeakMB: { fetcher: number, server: number }, fetcherCpuPct?: number, fetchCost?: SideCost, bareCost?: SideCost }

export interface LoopbackResult {
  settings: { totalMiB: number, files: number, rounds: number, dataDir: string }
  publish: { seconds: number, MBps: number }
  rounds: LoopbackRound[]
  fetchMBps: Summary
  bareMBps: Summary
  ratioOfMedians: number
  perRoundRatio: Summary
  /** VmHWM at the end (whole life, publish included) and the highest VmRSS sampled during fetches. */
  rss: { fetcherHwmMB: number, serverHwmMB: number, fetcherDuringFetchMB: number, serverDuringFetchMB: number }
  allVerified: boolean
  failures: string[]
}

const BULK_PEER = join(import.meta.dirname, '..', 'bulk', 'bulk-peer.ts')

/** A bulk-peer.ts "plain" server and client, connected; `env` reaches both (e.g. fetch-floor.ts's BULK_SINK_DIR / BULK_SOURCE_FILE). */
export async function barePair (label = 'bare libp2p', env: NodeJS.ProcessEnv = {}): Promise<{ server: Tracked, client: Tracked }> {
  const opts = { env: { ...process.env, ...env } }
  const server = spawnTracked(`${label} server`, process.execPath, [BULK_PEER, 'server', 'plain'], opts)
  const { addr } = await server.lines.nextJson<{ addr: string }>(15_000, 'its listen address')
  const client = spawnTracked(`${label} client`, process.execPath, [BULK_PEER, 'client', 'plain', addr], opts)
  await client.lines.nextJson(15_000, 'the ready line')
  return { server, client }
}

/** One transfer of `bytes` over one stream of a bare pair. */
export async function bareMeasure (client: Tracked, bytes: number, timeoutMs = 120_000): Promise<MeasureResult> {
  client.proc.stdin!.write(JSON.stringify({ op: 'measure', streams: 1, bytes }) + '\n')
  return client.lines.nextJson<MeasureResult>(timeoutMs, 'a bare transfer result')
}

/**
 * Starts counting the CPU time of a receiving and a sending process and how the cores are used; the
 * result, called when `bytes` have moved, gives both per GiB. On two cores the bare stream already keeps
 * both busy, so what a fetch costs on top of it (hashing, writes, the store) shows here, not in its rate.
 */
function watchCost (receiver: number, sender: number, bytes: number): () => SideCost {
  const r0 = cpuSecondsOf(receiver); const s0 = cpuSecondsOf(sender)
  const cores = watchCpuShares()
  const gib = bytes / 2 ** 30
  return () => ({ receiverCpuSPerGiB: (cpuSecondsOf(receiver) - r0) / gib, senderCpuSPerGiB: (cpuSecondsOf(sender) - s0) / gib, cores: cores() })
}

/** "2.10 + 1.50 = 3.60, cores 97 % busy (user 70, system 20, softirq 7)". */
export function describeCost (c: SideCost | undefined): string {
  if (c === undefined) return '—'
  const m = c.cores
  return `${c.receiverCpuSPerGiB.toFixed(2)} + ${c.senderCpuSPerGiB.toFixed(2)} = ${(c.receiverCpuSPerGiB + c.senderCpuSPerGiB).toFixed(2)}` +
    (m ? `, cores ${describeShares(m)}` : '')
}

export async function runLoopback (o: LoopbackOptions): Promise<LoopbackResult> {
  const bytes = o.totalMiB * 1024 * 1024
  const dir = bigTempDir('loopback', bytes * 4)
  const failures: string[] = []
  let a: Sidecar | undefined; let b: Sidecar | undefined
  let bare: { server: Tracked, client: Tracked } | undefined
  try {
    o.log(`  data in ${dir}; writing a ${o.totalMiB} MiB tree (${o.files} files) ...`)
    const src = join(dir, 'src')
    makeTree(src, o.files, Math.floor(bytes / o.files))
    a = await startSidecar({ label: 'sync-server', stateDir: join(dir, 'a'), listen: '/ip4/127.0.0.1/tcp/0', nodeArgs: o.nodeArgs('server') })
    b = await startSidecar({ label: 'sync-fetcher', stateDir: join(dir, 'b'), listen: '/ip4/127.0.0.1/tcp/0', nodeArgs: o.nodeArgs('fetcher') })
    await formMesh(a, [b])
    const pub = await publish(a, src, 'bench-loopback@main', 180_000)
    o.log(`  published ${pub.id.slice(0, 12)} in ${pub.seconds.toFixed(2)} s (${(bytes / 1e6 / pub.seconds).toFixed(0)} MB/s); server pid ${a.tracked.pid}, fetcher pid ${b.tracked.pid}`)
    await seesArtifact(b, pub.id, 1)
    // both sides get the same warm-up before the measured rounds: 128 MiB through the bare stream, and
    // a fetch of a 128 MiB artifact between the two sidecars (JIT, heap and buffer pools warm)
    const warmSrc = join(dir, 'warm-src')
    makeTree(warmSrc, 4, 32 * 1024 * 1024)
    const warmPub = await publish(a, warmSrc, 'bench-warm-up@main', 120_000)
    await seesArtifact(b, warmPub.id, 1)
    const { transfer: warmT } = await b.client.call('artifacts.fetch', { artifact: warmPub.id, out: join(dir, 'warm-out') })
    const warmFetch = (await waitTransfer(b, warmT.id, 120_000)).t
    if (warmFetch.state !== 'done') failures.push(`fetch warm-up ${warmFetch.state}: ${JSON.stringify(warmFetch.error)}`)
    rmSync(join(dir, 'warm-out'), { recursive: true, force: true })
    bare = await barePair()
    const warm = await bareMeasure(bare.client, 128 * 1024 * 1024)
    if (!warm.ok) failures.push(`bare warm-up: ${warm.error}`)
    const rounds: LoopbackRound[] = []
    let fetcherPeak = 0; let serverPeak = 0
    let fetched = 0; let verifiedCount = 0
    for (let r = 1; r <= o.rounds; r++) {
      const out = join(dir, `out${r}`)
      const doFetch = async (): Promise<Omit<LoopbackRound, 'round' | 'bareMBps' | 'bareSeconds'> | undefined> => {
        const stopRss = sampleRss([b!.tracked.pid, a!.tracked.pid])
        const cost = watchCost(b!.tracked.pid, a!.tracked.pid, bytes)
        const t0 = performance.now()
        const { transfer } = await b!.client.call('artifacts.fetch', { artifact: pub.id, out })
        const { t, at } = await waitTransfer(b!, transfer.id, 180_000)
        const secs = (at - t0) / 1000
        const fetchCost = cost()
        const cpu = fetchCost.receiverCpuSPerGiB * (bytes / 2 ** 30) / secs * 100
        const [fr, sr] = stopRss()
        fetcherPeak = Math.max(fetcherPeak, fr); serverPeak = Math.max(serverPeak, sr)
        if (t.state !== 'done') { failures.push(`round ${r} fetch ${t.state}: ${JSON.stringify(t.error)}`); return undefined }
        const verified = sameTree(src, out)
        fetched++; if (verified) verifiedCount++
        if (!verified) failures.push(`round ${r}: fetched tree differs from the source`)
        rmSync(out, { recursive: true, force: true })
        await b!.client.call('artifacts.remove', { artifact: pub.id })
        return { fetchMBps: bytes / 1e6 / secs, fetchSeconds: secs, verified, bytesFromPeers: t.bytesFromPeers, rssPeakMB: { fetcher: fr, server: sr }, fetcherCpuPct: cpu, fetchCost }
      }
      // a bare transfer that fails (yamux reset under CPU starvation, seen on a loaded machine) is
      // reported and retried once: bulk-peer.ts redials when its connection died
      let bareCost: SideCost | undefined
      // bulk-peer.ts: the client sends, the server sinks
      const measureBare = async (): Promise<MeasureResult> => {
        const cost = watchCost(bare!.server.pid, bare!.client.pid, bytes)
        const m = await bareMeasure(bare!.client, bytes)
        bareCost = cost()
        return m
      }
      const doBare = async (): Promise<MeasureResult> => {
        const m = await measureBare()
        if (m.ok) return m
        failures.push(`round ${r} bare (retried): ${m.error}`)
        return measureBare()
      }
      let f: Awaited<ReturnType<typeof doFetch>>; let m: MeasureResult
      if (r % 2 === 1) { f = await doFetch(); m = await doBare() } else { m = await doBare(); f = await doFetch() }
      if (!m.ok) failures.push(`round ${r} bare: ${m.error}`)
      if (f && m.ok) {
        rounds.push({ round: r, ...f, bareMBps: m.MBps, bareSeconds: m.seconds, bareCost })
        o.log(`  round ${r}: MeshLink fetch ${f.fetchMBps.toFixed(0)} MB/s (${f.fetchSeconds.toFixed(2)} s, fetcher CPU ${f.fetcherCpuPct?.toFixed(0)} %, ${f.verified ? 'byte-exact' : 'MISMATCH'}), bare stream ${m.MBps.toFixed(0)} MB/s; RSS peak fetcher ${f.rssPeakMB.fetcher.toFixed(0)} MB, server ${f.rssPeakMB.server.toFixed(0)} MB`)
        o.log(`    CPU s per GiB (receiver + sender): fetch ${describeCost(f.fetchCost)}; bare ${describeCost(bareCost)}`)
      }
    }
    const fm = readMemory(b.tracked.pid)
    void 0; const sm = readMemory(a.tracked.pid)
    const fetchMBps = summarize(rounds.map(x => x.fetchMBps)); const bareMBps = summarize(rounds.map(x => x.bareMBps))
    return {
      settings: { totalMiB: o.totalMiB, files: o.files, rounds: o.rounds, dataDir: dir },
      publish: { seconds: pub.seconds, MBps: bytes / 1e6 / pub.seconds },
      rounds,
      fetchMBps,
      bareMBps,
      ratioOfMedians: ratio(median(fetchMBps.values), median(bareMBps.values)),
      perRoundRatio: summarize(rounds.map(x => x.fetchMBps / x.bareMBps)),
      rss: { fetcherHwmMB: fm?.hwmMB ?? Number.NaN, serverHwmMB: sm?.hwmMB ?? Number.NaN, fetcherDuringFetchMB: fetcherPeak, serverDuringFetchMB: serverPeak },
      allVerified: fetched > 0 && fetched === verifiedCount,
      failures
    }
  } finally {
    if (bare) { bare.client.proc.stdin!.end(); await stopTracked(bare.client); await stopTracked(bare.server) }
    await b?.stop(); await a?.stop()
    removeBigDir(dir)
  }
}
