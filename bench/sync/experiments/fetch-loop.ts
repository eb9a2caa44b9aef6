// Experiment: one server and one fetcher sidecar over loopback, one artifact fetched N times in a row
// (the fetcher's copy removed after each), printing per fetch: MB/s and the user/system CPU seconds of
// both processes, and at the end both processes' peak RSS. For profiling the fetch path from outside (perf record -p PID, node flags):
//   node bench/sync/experiments/fetch-loop.ts [--mib 512] [--fetches 4] [--wait-before 0]
// Env: FETCHER_NODE_ARGS / SERVER_NODE_ARGS: extra node flags (space separated), e.g. --trace-gc.
// Env: FETCH_CAP=BYTES_PER_SEC: the fetch's download cap (maxBytesPerSec), e.g. a LAN seeder's rate.
// Env: FETCHER_BUNDLE / SERVER_BUNDLE: another build of the sidecar to run (A/B of a change).
// Builds nothing: run `npm run build` first. Data lives in /dev/shm when it has room (as bench:sync).
import { join } from 'node:path'
import { readFileSync, rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { installCleanupHandlers, stopAll } from '../../lib/child-processes.ts'
import { bigTempDir, removeAllBigDirs, makeTree, sameTree, startSidecar, formMesh, publish, seesArtifact, waitTransfer } from '../common.ts'

const { values } = parseArgs({ options: { mib: { type: 'string', default: '512' }, fetches: { type: 'string', default: '4' }, 'wait-before': { type: 'string', default: '0' }, verify: { type: 'boolean', default: false } } })
const mib = Number(values.mib); const fetches = Math.min(Number(values.fetches), 50)
const argsOf = (v: string | undefined): string[] => (v ?? '').split(' ').filter(Boolean)

/** user and system CPU seconds of a process (its threads included). */
function cpu (pid: number): { user: number, sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 }
}

installCleanupHandlers()
process.on('exit', removeAllBigDirs)
const bytes = mib * 1024 * 1024
const dir = bigTempDir('fetch-loop', bytes * 4)
try {
  const src = join(dir, 'src')
  makeTree(src, 16, Math.floor(bytes / 16))
  const a = await startSidecar({ label: 'server', stateDir: join(dir, 'a'), listen: '/ip4/127.0.0.1/tcp/0', nodeArgs: argsOf(process.env.SERVER_NODE_ARGS), bundle: process.env.SERVER_BUNDLE })
  const b = await startSidecar({ label: 'fetcher', stateDir: join(dir, 'b'), listen: '/ip4/127.0.0.1/tcp/0', nodeArgs: argsOf(process.env.FETCHER_NODE_ARGS), bundle: process.env.FETCHER_BUNDLE })
  await formMesh(a, [b])
  const pub = await publish(a, src, 'loop@main', 300_000)
  await seesArtifact(b, pub.id, 1)
  console.log(JSON.stringify({ server: a.tracked.pid, fetcher: b.tracked.pid, publishMBps: Math.round(bytes / 1e6 / pub.seconds) }))
  await sleep(Number(values['wait-before']) * 1000)
  for (let i = 1; i <= fetches; i++) {
    const out = join(dir, `out${i}`)
    const fa = cpu(b.tracked.pid); const sa = cpu(a.tracked.pid)
    const t0 = performance.now()
    const { transfer } = await b.client.call('artifacts.fetch', { artifact: pub.id, out, ...(process.env.FETCH_CAP ? { maxBytesPerSec: Number(process.env.FETCH_CAP) } : {}) })
    const { t, at } = await waitTransfer(b, transfer.id, 300_000)
    const secs = (at - t0) / 1000
    const fb = cpu(b.tracked.pid); const sb = cpu(a.tracked.pid)
    const ok = t.state === 'done' && (values.verify !== true || sameTree(src, out))
    console.log(`fetch ${i}: ${(bytes / 1e6 / secs).toFixed(0)} MB/s in ${secs.toFixed(2)} s ${ok ? 'ok' : `FAILED ${t.state}`}; fetcher CPU user ${(fb.user - fa.user).toFixed(2)} s sys ${(fb.sys - fa.sys).toFixed(2)} s; server user ${(sb.user - sa.user).toFixed(2)} s sys ${(sb.sys - sa.sys).toFixed(2)} s`)
    rmSync(out, { recursive: true, force: true })
    await b.client.call('artifacts.remove', { artifact: pub.id })
  }
  const peakRss = (pid: number): string => /VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?'
  console.log(`peak RSS (kB): fetcher ${peakRss(b.tracked.pid)}, server ${peakRss(a.tracked.pid)}`)
  await b.stop(); await a.stop()
} finally {
  await stopAll()
  removeAllBigDirs()
}
