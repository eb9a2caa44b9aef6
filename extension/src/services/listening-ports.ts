// The TCP ports listening on this machine that a share could carry to: on Linux, the LISTEN sockets
// of /proc/net/tcp and /proc/net/tcp6 bound to loopback or to every address (a socket bound only
// to a LAN address is not reachable at 127.0.0.1, where the sidecar connects), with the program
// that owns each when this user may see it. Other platforms have no such file: the person types the
// port (see the quick pick in share-prompts.ts).
// Format: https://www.kernel.org/doc/html/latest/networking/proc_net_tcp.html
import { readdir, readFile, readlink } from 'node:fs/promises'
import { basename, join } from 'node:path'

/** A LISTEN socket of this machine. */
export interface ListeningPort {
  port: number
  /** The bound address: 127.0.0.1, 0.0.0.0, ::1, ::, ::ffff:127.0.0.1 ... */
  address: string
  /** Where the sidecar should connect for this port (services.share's `host`). */
  host: string
  /** Socket inode (to find the owning process). */
  inode: number
  /** The owning program, e.g. `node vite`, when readable. */
  program?: string
}

export interface ListeningPorts {
  /** false where ports cannot be listed (not Linux, or /proc unreadable): type the port. */
  supported: boolean
  /** One entry per port, lowest first. */
  ports: ListeningPort[]
}

/** TCP_LISTEN in include/net/tcp_states.h */
const LISTEN = '0A'
/** Scanning /proc/<pid>/fd for owners stops after this long; ports without a program still show. */
const OWNER_SCAN_MS = 1500

/** /proc/net/tcp addresses are the kernel's in-memory words: each 32-bit word little-endian. */
export function decodeAddress (hex: string): string {
  const words = hex.match(/.{8}/g) ?? []
  const bytes = words.flatMap(w => [6, 4, 2, 0].map(i => Number.parseInt(w.slice(i, i + 2), 16)))
  if (bytes.length === 4) return bytes.join('.')
  if (bytes.length !== 16) return hex
  if (bytes.slice(0, 10).every(b => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
  // the longest run of zero groups becomes '::'
  let best = -1; let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen) { best = i; bestLen = j - i }
    i = j
  }
  if (bestLen < 2) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
}

/** Reachable at loopback: bound to a loopback address, or to every address. */
export function reachableLocally (address: string): boolean {
  return /^127\./.test(address) || address === '0.0.0.0' || address === '::1' || address === '::' ||
    /^::ffff:127\./.test(address) || address === '::ffff:0.0.0.0'
}

/** The loopback address that reaches a socket bound to `address` (a dev server on `localhost` may be on ::1 only). */
export function loopbackFor (address: string): string {
  if (/^127\./.test(address)) return address
  if (address.startsWith('::ffff:127.')) return address.slice(7)
  if (address === '::1' || address === '::') return '::1'
  return '127.0.0.1'
}

/** The LISTEN sockets in one /proc/net/tcp(6) text that are reachable at loopback. */
export function parseProcNetTcp (text: string): ListeningPort[] {
  const out: ListeningPort[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10 || f[3] !== LISTEN) continue
    const [addrHex, portHex] = f[1].split(':')
    if (!addrHex || !portHex) continue
    const address = decodeAddress(addrHex)
    const port = Number.parseInt(portHex, 16)
    if (!reachableLocally(address) || !(port > 0)) continue
    out.push({ port, address, host: loopbackFor(address), inode: Number(f[9]) })
  }
  return out
}

/** `node /x/node_modules/.bin/vite --port 5173` -> `node vite`; `/usr/sbin/nginx -g ...` -> `nginx`. */
export function programName (cmdline: string[]): string | undefined {
  if (cmdline.length === 0 || !cmdline[0]) return undefined
  // a process that rewrote its title ("nginx: worker process") has one argument with spaces
  const exe = basename(cmdline[0].split(' ')[0]).replace(/:$/, '')
  const script = cmdline.slice(1).find(a => !a.startsWith('-'))
  if (/^(node|nodejs|bun|deno|python\d*(\.\d+)?|ruby|php|java|dotnet|perl)$/.test(exe) && script) return `${exe} ${basename(script)}`
  return exe
}

/** Maps socket inodes to the program owning them, scanning this user's /proc/<pid>/fd (bounded). */
async function owners (inodes: Set<number>, proc: string, signal: AbortSignal): Promise<Map<number, string>> {
  const found = new Map<number, string>()
  let pids: string[]
  try { pids = (await readdir(proc)).filter(d => /^\d+$/.test(d)) } catch { return found }
  for (const pid of pids) {
    if (signal.aborted || found.size === inodes.size) break
    let fds: string[]
    try { fds = await readdir(join(proc, pid, 'fd')) } catch { continue } // another user's process
    for (const fd of fds) {
      let target: string
      try { target = await readlink(join(proc, pid, 'fd', fd)) } catch { continue }
      const m = /^socket:\[(\d+)\]$/.exec(target)
      if (!m || !inodes.has(Number(m[1]))) continue
      try {
        const name = programName((await readFile(join(proc, pid, 'cmdline'), 'utf8')).split('\0').filter(Boolean))
        if (name) found.set(Number(m[1]), name)
      } catch { /* it exited meanwhile */ }
    }
  }
  return found
}

/** The ports listening on this machine, reachable at loopback (Linux); elsewhere `supported: false`. */
export async function listeningPorts (opts: { platform?: NodeJS.Platform, proc?: string, signal?: AbortSignal } = {}): Promise<ListeningPorts> {
  const platform = opts.platform ?? process.platform
  const proc = opts.proc ?? '/proc'
  if (platform !== 'linux') return { supported: false, ports: [] }
  const all: ListeningPort[] = []
  let readAny = false
  for (const file of ['tcp', 'tcp6']) {
    try {
      all.push(...parseProcNetTcp(await readFile(join(proc, 'net', file), 'utf8')))
      readAny = true
    } catch { /* no IPv6, or no /proc */ }
  }
  if (!readAny) return { supported: false, ports: [] }
  const byPort = new Map<number, ListeningPort>()
  for (const p of all) {
    const had = byPort.get(p.port)
    // prefer an IPv4 socket: 127.0.0.1 is the sidecar's default target
    if (!had || (had.address.includes(':') && !p.address.includes(':'))) byPort.set(p.port, p)
  }
  const signal = AbortSignal.any([AbortSignal.timeout(OWNER_SCAN_MS), ...(opts.signal ? [opts.signal] : [])])
  const names = await owners(new Set(all.map(p => p.inode)), proc, signal)
  // a port bound twice (IPv4 and IPv6) names its program through either socket
  const programOf = new Map<number, string>()
  for (const p of all) { const n = names.get(p.inode); if (n && !programOf.has(p.port)) programOf.set(p.port, n) }
  return {
    supported: true,
    ports: [...byPort.values()].sort((a, b) => a.port - b.port).map(p => {
      const program = programOf.get(p.port)
      return program ? { ...p, program } : p
    })
  }
}
