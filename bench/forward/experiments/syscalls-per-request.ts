// EXPERIMENT: read/write syscalls and CPU per request of each forwarding process (from /proc/<pid>/io
// and /proc/<pid>/stat) under wrk -t2 -c32, 1 KiB, for MeshLink (optionally another --bundle) and ssh -L.
//   node bench/forward/experiments/syscalls-per-request.ts [--bundle FILE] [--secs N]
import { parseArgs } from 'node:util'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { installCleanupHandlers, stopAll } from '../../lib/child-processes.ts'
import { tempDir, removeAllTempDirs } from '../../lib/temp-dirs.ts'
import { cpuSeconds } from '../proc-stats.ts'
import { runWrk } from '../wrk.ts'
import { ensureTools, startNginx, startSshTunnel, startMeshlinkPair } from '../setup.ts'

const { values } = parseArgs({ options: { bundle: { type: 'string' }, secs: { type: 'string' }, conns: { type: 'string' } } })
const secs = Number(values.secs ?? 4)
const conns = Number(values.conns ?? 32)
installCleanupHandlers()
process.on('exit', removeAllTempDirs)
const { paths } = ensureTools(() => {})
const dir = tempDir('syscalls')
mkdirSync(join(dir, 'www'), { recursive: true })
writeFileSync(join(dir, 'www', '1k.bin'), randomBytes(1024))
const server = await startNginx(paths.nginx!, dir)

function io (pid: number): { r: number, w: number, cpu: number, user: number } {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8')
  const get = (k: string): number => Number(new RegExp(`${k}: (\\d+)`).exec(t)![1])
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const user = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[11]) / 100
  return { r: get('syscr'), w: get('syscw'), cpu: cpuSeconds(pid), user }
}
async function measure (label: string, port: number, pids: Record<string, number>): Promise<void> {
  await runWrk(paths.wrk!, port, '/1k.bin', 1, 4, 1) // warm-up
  const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, io(p)]))
  const res = await runWrk(paths.wrk!, port, '/1k.bin', 2, conns, secs)
  const n = res.requests
  const parts = Object.entries(pids).map(([k, p]) => {
    const a = io(p); const b = before[k]!
    return `${k}: ${((a.r - b.r) / n).toFixed(2)} reads, ${((a.w - b.w) / n).toFixed(2)} writes, ${((a.cpu - b.cpu) / n * 1e6).toFixed(1)} µs CPU (user ${((a.user - b.user) / n * 1e6).toFixed(1)})`
  })
  process.stdout.write(`${label}: ${Math.round(n / secs)} req/s; per request: ${parts.join('; ')}\n`)
}

const mesh = await startMeshlinkPair(join(dir, 'ml'), server.port, () => [], values.bundle ? resolve(values.bundle) : undefined)
await measure('MeshLink', mesh.port, { guest: mesh.guest.tracked.pid, host: mesh.host.tracked.pid })
await mesh.stop()
const ssh = await startSshTunnel(paths, dir, server.port)
const sshdChild = (): number => {
  // the per-connection sshd child that carries the channel
  const kids = readFileSync(`/proc/${ssh.sshd.pid}/task/${ssh.sshd.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
  let pid = kids[0]!
  for (;;) {
    const more = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    if (!more) return pid
    pid = Number(more.split(/\s+/)[0])
  }
}
await measure('ssh -L', ssh.port, { ssh: ssh.ssh.pid, sshd: sshdChild() })
await stopAll()
process.exit(0)
