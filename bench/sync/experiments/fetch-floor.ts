// Experiment: the least a verified fetch must cost over loopback, against the bare stream that
// bench:sync's loopback goal compares with (issue 5: fetch ≥ 0.8 × bare). Two pairs of
// bench/bulk/bulk-peer.ts "plain" processes (createLibp2p tcp+noise+yamux, one stream, 256 KiB writes):
//   bare   — the loopback phase's reference: a constant buffer in, bytes counted out;
//   floor  — the same stream, plus what any verified fetch must do with each byte and nothing else: the
//            sender reads every piece from a file (as a store read), the receiver hashes it (SHA-256 per
//            128 KiB) and writes it once to a file (pwritev on the thread pool, in order).
// No scheduling, no requests, no manifests, no store index: MeshLink's fetch cannot beat `floor`, so
// floor / bare bounds the loopback ratio this machine allows. Rounds alternate the order.
//   node bench/sync/experiments/fetch-floor.ts [--mib 1024] [--rounds 3]
// Data in /dev/shm when it has room (as bench:sync).
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { installCleanupHandlers, stopAll, type Tracked } from '../../lib/child-processes.ts'
import { bigTempDir, removeAllBigDirs, writeRandomFile } from '../common.ts'
import { cpuSeconds } from '../../forward/proc-stats.ts'
import { barePair, bareMeasure } from '../loopback.ts'

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '3' } } })
const bytes = Number(values.mib) * 1024 * 1024
const rounds = Math.min(Number(values.rounds), 10)

installCleanupHandlers()
process.on('exit', removeAllBigDirs)
const dir = bigTempDir('floor', 2 * 256 * 1024 * 1024 + bytes)
const source = join(dir, 'source.bin')
writeRandomFile(source, 256 * 1024 * 1024)

async function measure (p: { server: Tracked, client: Tracked }, n: number): Promise<{ MBps: number, receiverCpuPerGiB: number, senderCpuPerGiB: number }> {
  const r0 = cpuSeconds(p.server.pid); const s0 = cpuSeconds(p.client.pid)
  const res = await bareMeasure(p.client, n, 300_000)
  if (!res.ok) throw new Error(res.error)
  const gib = n / 2 ** 30
  return { MBps: res.MBps, receiverCpuPerGiB: (cpuSeconds(p.server.pid) - r0) / gib, senderCpuPerGiB: (cpuSeconds(p.client.pid) - s0) / gib }
}

try {
  const bare = await barePair('bare')
  const floor = await barePair('floor', { BULK_SINK_DIR: dir, BULK_SOURCE_FILE: source })
  await measure(bare, 128 * 1024 * 1024) // warm-up, both
  await measure(floor, 128 * 1024 * 1024)
  const fmt = (r: Awaited<ReturnType<typeof measure>>): string => `${r.MBps.toFixed(0)} MB/s, CPU s/GiB receiver ${r.receiverCpuPerGiB.toFixed(2)} + sender ${r.senderCpuPerGiB.toFixed(2)}`
  for (let i = 1; i <= rounds; i++) {
    const order = i % 2 === 1 ? [['bare', bare], ['floor', floor]] as const : [['floor', floor], ['bare', bare]] as const
    const got: Record<string, Awaited<ReturnType<typeof measure>>> = {}
    for (const [name, p] of order) got[name] = await measure(p, bytes)
    console.log(`round ${i}: bare ${fmt(got.bare)}; floor ${fmt(got.floor)}; floor / bare ${(got.floor.MBps / got.bare.MBps).toFixed(3)}`)
  }
} finally {
  await stopAll()
}
