// The three (four) paths of the forward bench: the HTTP server (nginx, or a Node server), ssh -L
// through a throwaway sshd, socat (when installed), and MeshLink (two sidecars on loopback).
// Every process is started with spawnTracked (PID-tracked, ended by the bench); temp dirs via tempDir.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync, readFileSync, chmodSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { get } from 'node:http'
import { join, delimiter } from 'node:path'
import { userInfo } from 'node:os'
import { spawnTracked, stopTracked, sleep, type Tracked } from '../lib/child-processes.ts'
import { startSidecar, type RunningSidecar } from '../lib/sidecar-process.ts'
import { processTree } from './proc-stats.ts'
import { MeshlinkClient } from '../../sidecar/src/client/client.ts'

type Log = (line: string) => void

/** Binary -> Debian package that provides it. */
const TOOLS: Record<string, string> = { wrk: 'wrk', nginx: 'nginx-light', sshd: 'openssh-server', ssh: 'openssh-client', 'ssh-keygen': 'openssh-client' }
export const isRoot = (): boolean => process.getuid?.() === 0

/** Absolute path of a binary on PATH (plus the sbin dirs a non-root PATH may lack), or null. */
export function which (bin: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin']
  for (const d of dirs) if (d && existsSync(join(d, bin))) return join(d, bin)
  return null
}

/**
 * Finds wrk, nginx, sshd, ssh, ssh-keygen; installs the missing ones with apt-get when running as
 * root (apt-get update first only if the plain install fails). Returns each path or null, and
 * what it did or could not do.
 */
export function ensureTools (log: Log): { paths: Record<string, string | null>, notes: string[] } {
  const notes: string[] = []
  const find = (): Record<string, string | null> => Object.fromEntries(Object.keys(TOOLS).map(b => [b, which(b)]))
  let paths = find()
  const missing = Object.keys(paths).filter(b => paths[b] === null)
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(b => TOOLS[b]))]
    if (!isRoot()) {
      notes.push(`missing ${missing.join(', ')} and not running as root, so not installing ${pkgs.join(' ')} (apt-get install ${pkgs.join(' ')} as root)`)
    } else {
      log(`installing ${pkgs.join(' ')} with apt-get ...`)
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
      const install = (): boolean => spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env, timeout: 600_000 }).status === 0
      let ok = install()
      if (!ok) {
        spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env, timeout: 300_000 })
        ok = install()
      }
      notes.push(ok ? `installed ${pkgs.join(' ')} with apt-get` : `apt-get install ${pkgs.join(' ')} failed`)
      paths = find()
    }
  }
  return { paths, notes }
}

/** A free TCP port on 127.0.0.1 (bound, read and released: a tiny race, fine on a quiet loopback). */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

/** Waits (bounded) until 127.0.0.1:port accepts a connection. */
export async function waitPort (port: number, what: string, timeoutMs = 10_000, proc?: Tracked): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect({ host: '127.0.0.1', port })
      c.once('connect', () => { c.destroy(); resolve(true) })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    if (proc && proc.proc.exitCode !== null) break
    await sleep(100)
  }
  throw new Error(`${what} never accepted on 127.0.0.1:${port}${proc ? `; stderr: ${proc.stderr().slice(-2000)}` : ''}`)
}

/** GET http://127.0.0.1:port/path fully, bounded. */
export function fetchBody (port: number, path: string, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => res.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error(`HTTP ${res.statusCode}`)))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)))
    req.on('error', reject)
  })
}

/** Ends a tracked process and then any descendants it left (by PID: forked children of sshd/socat). */
export async function stopTree (t: Tracked | undefined): Promise<void> {
  if (!t) return
  const kids = processTree(t.pid).slice(1)
  await stopTracked(t)
  for (const pid of kids) try { process.kill(pid, 'SIGTERM') } catch { /* gone */ }
}

export interface HttpServer { kind: string, port: number, proc: Tracked }

/** nginx with 1 worker and its own config in `dir` (serving dir/www), as in shared/anchors/03_portfwd.sh. */
export async function startNginx (nginx: string, dir: string): Promise<HttpServer> {
  const port = await freePort()
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  writeFileSync(join(dir, 'nginx.conf'), `${isRoot() ? 'user root; ' : ''}worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; keepalive_timeout 60;
  client_body_temp_path ${dir}/tmp/cb; proxy_temp_path ${dir}/tmp/p; fastcgi_temp_path ${dir}/tmp/f; uwsgi_temp_path ${dir}/tmp/u; scgi_temp_path ${dir}/tmp/s;
  types { application/octet-stream bin; }
  server { listen 127.0.0.1:${port}; root ${dir}/www; }
}
`)
  const proc = spawnTracked('nginx', nginx, ['-e', join(dir, 'nginx.err'), '-p', dir, '-c', join(dir, 'nginx.conf')])
  await waitPort(port, 'nginx', 10_000, proc)
  const v = spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '')
  return { kind: `${v} (1 worker, sendfile)`, port, proc }
}

/** The fallback: bench/forward/http-server.ts (one Node process). */
export async function startNodeServer (dir: string): Promise<HttpServer> {
  const port = await freePort()
  const proc = spawnTracked('node http server', process.execPath, [join(import.meta.dirname, 'http-server.ts'), join(dir, 'www'), String(port)])
  await proc.lines.nextJson(10_000, 'the listening line')
  return { kind: `Node ${process.version} http (one process)`, port, proc }
}

export interface SshTunnel { sshd: Tracked, ssh: Tracked, port: number, version: string, cipher: string }

/** sshd on 127.0.0.1:<free port> with throwaway host and user keys and its own config, then `ssh -N -L`. */
export async function startSshTunnel (paths: Record<string, string | null>, dir: string, targetPort: number): Promise<SshTunnel> {
  const sshd = paths.sshd!; const ssh = paths.ssh!; const keygen = paths['ssh-keygen']!
  if (isRoot()) mkdirSync('/run/sshd', { recursive: true }) // privilege separation dir sshd insists on
  const sdir = join(dir, 'ssh')
  mkdirSync(sdir, { recursive: true })
  for (const k of ['hostkey', 'userkey']) {
    const r = spawnSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(sdir, k)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`)
  }
  writeFileSync(join(sdir, 'authorized_keys'), readFileSync(join(sdir, 'userkey.pub')))
  chmodSync(join(sdir, 'authorized_keys'), 0o600)
  const sshPort = await freePort()
  const user = userInfo().username
  writeFileSync(join(sdir, 'sshd_config'), [
    `Port ${sshPort}`, 'ListenAddress 127.0.0.1', `HostKey ${sdir}/hostkey`, `PidFile ${sdir}/sshd.pid`,
    `AuthorizedKeysFile ${sdir}/authorized_keys`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'AllowTcpForwarding yes', `AllowUsers ${user}`, 'LogLevel ERROR', ''
  ].join('\n'))
  const d = spawnTracked('sshd', sshd, ['-D', '-f', join(sdir, 'sshd_config'), '-E', join(sdir, 'sshd.log')])
  try {
    await waitPort(sshPort, 'sshd', 10_000, d)
  } catch (err) {
    await stopTracked(d)
    throw new Error(`${(err as Error).message}; sshd.log: ${existsSync(join(sdir, 'sshd.log')) ? readFileSync(join(sdir, 'sshd.log'), 'utf8').slice(-1000) : ''}`)
  }
  const port = await freePort()
  const opts = ['-F', '/dev/null', '-p', String(sshPort), '-i', join(sdir, 'userkey'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-o', 'LogLevel=ERROR']
  const s = spawnTracked('ssh -L', ssh, ['-N', ...opts, '-L', `127.0.0.1:${port}:127.0.0.1:${targetPort}`, `${user}@127.0.0.1`])
  try {
    await waitPort(port, 'ssh -L', 15_000, s)
  } catch (err) {
    await stopTracked(s); await stopTree(d)
    throw err
  }
  const version = spawnSync(ssh, ['-V'], { encoding: 'utf8' }).stderr.trim()
  // the negotiated cipher, as the anchor reports it
  const v = spawnSync(ssh, ['-v', '-T', ...opts, `${user}@127.0.0.1`, 'true'], { encoding: 'utf8', timeout: 15_000 })
  const cipher = /kex: client->server cipher: (\S+)/.exec(v.stderr ?? '')?.[1] ?? '?'
  return { sshd: d, ssh: s, port, version, cipher }
}

/** socat TCP forward (one forked child per connection), as in the anchor. */
export async function startSocat (socat: string, targetPort: number): Promise<{ proc: Tracked, port: number, version: string }> {
  const port = await freePort()
  const proc = spawnTracked('socat', socat, [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `TCP:127.0.0.1:${targetPort}`])
  await waitPort(port, 'socat', 10_000, proc)
  const version = /socat version (\S+)/.exec(spawnSync(socat, ['-V'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?'
  return { proc, port, version }
}

export interface NodeRelay { guest: Tracked, host: Tracked, port: number }

/** Two plain Node relays in a chain (reference only): guest relay -> host relay -> 127.0.0.1:targetPort. */
export async function startNodeRelay (targetPort: number): Promise<NodeRelay> {
  const start = async (label: string, to: number): Promise<{ proc: Tracked, port: number }> => {
    const proc = spawnTracked(label, process.execPath, [join(import.meta.dirname, 'node-relay.ts'), '0', String(to)])
    const { port } = await proc.lines.nextJson<{ port: number }>(10_000, `${label}'s listening line`)
    return { proc, port }
  }
  const host = await start('node relay (host)', targetPort)
  try {
    const guest = await start('node relay (guest)', host.port)
    return { guest: guest.proc, host: host.proc, port: guest.port }
  } catch (err) {
    await stopTracked(host.proc)
    throw err
  }
}

export interface MeshlinkPair {
  host: RunningSidecar
  guest: RunningSidecar
  hostClient: MeshlinkClient
  guestClient: MeshlinkClient
  /** The guest's local forward port. */
  port: number
  forwardId: string
  stop(): Promise<void>
}

async function until (fn: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < end) {
    try { if (await fn()) return } catch (err) { last = err }
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`)
}

/**
 * Two sidecars on loopback: the host joins nobody, the guest joins the host's mesh by invite; the
 * host shares `targetPort` as "bench", the guest opens a forward to it (any free local port).
 */
export async function startMeshlinkPair (dir: string, targetPort: number, nodeArgs: (role: string) => string[], bundle?: string): Promise<MeshlinkPair> {
  const host = await startSidecar(join(dir, 'host'), 15_000, { args: ['--name', 'bench-host'], nodeArgs: nodeArgs('host'), label: 'meshlink host', ...(bundle ? { bundle } : {}) })
  let guest: RunningSidecar | undefined
  let hostClient: MeshlinkClient | undefined
  let guestClient: MeshlinkClient | undefined
  const stop = async (): Promise<void> => {
    hostClient?.close(); guestClient?.close()
    await Promise.all([guest?.stop(), host.stop()])
  }
  try {
    guest = await startSidecar(join(dir, 'guest'), 15_000, { args: ['--name', 'bench-guest'], nodeArgs: nodeArgs('guest'), label: 'meshlink guest', ...(bundle ? { bundle } : {}) })
    hostClient = new MeshlinkClient(host.info, { timeoutMs: 20_000 })
    guestClient = new MeshlinkClient(guest.info, { timeoutMs: 20_000 })
    const { code } = await hostClient.call('mesh.invite')
    const joined = await guestClient.call('mesh.join', { code })
    if (!joined.connected) throw new Error('the guest sidecar joined but did not connect to the host')
    await hostClient.call('services.share', { port: targetPort, name: 'bench' })
    const gc = guestClient
    await until(async () => (await gc.call('services.list')).services.some(s => s.name === 'bench' && !s.mine && s.online), 'the shared service to reach the guest')
    const { forward } = await guestClient.call('forwards.open', { peer: host.info.peerId, service: 'bench', port: 0 })
    return { host, guest, hostClient, guestClient, port: forward.localPort, forwardId: forward.id, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
