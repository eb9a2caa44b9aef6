import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnTracked, stopTracked, type Tracked } from './child-processes.ts'
import type { ApiInfo } from '../../sidecar/src/daemon/api-info.ts'
import { ROOT } from './paths.ts'
import { SIDECAR_NODE_FLAGS } from '../../sidecar/src/daemon/node-flags.ts'

/** The bundled CLI/sidecar built by `npm run build`. */
export const SIDECAR_BUNDLE = join(ROOT, 'dist', 'meshlink.mjs')

export interface RunningSidecar {
  tracked: Tracked
  info: ApiInfo
  stateDir: string
  /** performance.now() just before spawn() and when the handshake line arrived. */
  spawnedAt: number
  handshakeAt: number
  stop(): Promise<number | string | null>
}

/** Optional additions: Node flags such as --cpu-prof, CLI flags such as --name, where it listens and runs. */
export interface SidecarExtras {
  nodeArgs?: string[]
  args?: string[]
  label?: string
  /** Multiaddr it accepts mesh connections on (default: a free loopback port). */
  listen?: string
  /** Network namespace to run it in (`ip netns exec` execs node, so the PID is still the sidecar's). */
  netns?: string
  /** Another build of the sidecar to run instead of dist/meshlink.mjs (experiments). */
  bundle?: string
}

/**
 * Starts `meshlink up --handshake` exactly as the brief and the integration tests do (the launchers'
 * node flags, loopback listen unless `extra.listen` says otherwise, no mDNS), plus --parent-pid so the
 * sidecar exits by itself if the benchmark dies.
 */
export async function startSidecar (stateDir: string, timeoutMs = 15_000, extra: SidecarExtras = {}): Promise<RunningSidecar> {
  const args = [...SIDECAR_NODE_FLAGS, ...(extra.nodeArgs ?? []), extra.bundle ?? SIDECAR_BUNDLE, 'up', '--handshake', '--state', stateDir,
    '--listen', extra.listen ?? '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--parent-pid', String(process.pid), ...(extra.args ?? [])]
  const spawnedAt = performance.now()
  const label = extra.label ?? 'meshlink up'
  const tracked = extra.netns !== undefined
    ? spawnTracked(label, 'ip', ['netns', 'exec', extra.netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawnTracked(label, process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let info: ApiInfo
  try {
    info = await tracked.lines.nextJson<ApiInfo>(timeoutMs, 'the handshake line')
  } catch (err) {
    await stopTracked(tracked)
    throw err
  }
  const handshakeAt = performance.now()
  return { tracked, info, stateDir, spawnedAt, handshakeAt, stop: () => stopTracked(tracked, 10_000) }
}

/** Resident and peak memory of a process from /proc/<pid>/status (Linux), in MB (10^6 bytes). */
export function readMemory (pid: number): { rssMB: number, hwmMB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k: string): number => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s) ?? [])[1] ?? Number.NaN)
    return { rssMB: kb('VmRSS') * 1024 / 1e6, hwmMB: kb('VmHWM') * 1024 / 1e6 }
  } catch {
    return undefined
  }
}
