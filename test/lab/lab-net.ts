// A LAN made of Linux network namespaces: one "switch" namespace holding a bridge, and one namespace
// per host, each wired to the bridge by a veth pair. Everything is created inside namespaces this
// module names and owns; the host's root namespace (its interfaces, routes, firewall) is never
// touched, and the subnet never leaves the bridge.
import { spawnSync } from 'node:child_process'

/** Longest an `ip` (or `ping`) invocation may take before setup is declared broken. */
const CMD_TIMEOUT_MS = 10_000
/** How long the bridge may take to forward between every pair of hosts. */
const LINK_READY_MS = 10_000
/**
 * The lab subnet. Each lab has its own bridge in its own namespace, so parallel labs may reuse it;
 * .254 is the bridge's own address, the LAN's "gateway".
 */
const SUBNET = '10.213.7'
const GATEWAY = `${SUBNET}.254`
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** Why the lab cannot be built here (not root, no iproute2, no namespaces), or undefined. */
export function labUnavailable (): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (this is ${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return `not root (uid ${process.getuid?.()})`
  const v = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: CMD_TIMEOUT_MS })
  if (v.error) return `\`ip\` (iproute2) is not available: ${v.error.message}`
  return undefined
}

/** The lab could not be built; the message says which command failed and why. */
export class LabSetupError extends Error {
  readonly name = 'LabSetupError'
}

export interface LabHost {
  /** The host's label as given to createLab(). */
  label: string
  /** Its network namespace. */
  netns: string
  /** Its IPv4 address on the lab LAN. */
  addr: string
  /** Command prefix that runs a program inside the host's namespace. */
  prefix: string[]
}

export interface Lab {
  hosts: Record<string, LabHost>
  /** Deletes every namespace of the lab (and with them the bridge and veths). Idempotent, synchronous. */
  destroy(): void
}

function ip (args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: CMD_TIMEOUT_MS })
  if (r.error || r.status !== 0) throw new LabSetupError(`ip ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`)
}

function hasPing (): boolean {
  return !spawnSync('ping', ['-V'], { timeout: CMD_TIMEOUT_MS }).error
}

/**
 * Builds a bridged LAN with one namespace per label (at most 250). Namespace names carry `tag` (use
 * the test's pid) so parallel runs do not clash. Every host gets `lo` up, an address in SUBNET and
 * a default route via the bridge, as on an ordinary LAN: without any route covering 224.0.0.251, a
 * host cannot send mDNS at all (ENETUNREACH), because the mDNS socket leaves the outgoing interface
 * to the routing table. On failure the partial lab is removed and LabSetupError thrown.
 */
export function createLab (tag: string, labels: string[]): Lab {
  const sw = `${tag}-sw`
  const created: string[] = []
  let destroyed = false
  const destroy = (): void => {
    if (destroyed) return
    destroyed = true
    process.removeListener('exit', destroy)
    for (const sig of SIGNALS) process.removeListener(sig, onSignal)
    for (const ns of created.reverse()) spawnSync('ip', ['netns', 'del', ns], { timeout: CMD_TIMEOUT_MS })
  }
  // clean up, then die of the same signal as the default action would have
  const onSignal = (sig: NodeJS.Signals): void => {
    destroy()
    process.kill(process.pid, sig)
  }
  // a crash, an early exit or an interrupted run must not leave namespaces behind
  process.once('exit', destroy)
  for (const sig of SIGNALS) process.once(sig, onSignal)
  const addNetns = (ns: string): void => {
    ip(['netns', 'add', ns])
    created.push(ns)
    ip(['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  const hosts: Record<string, LabHost> = {}
  try {
    addNetns(sw)
    ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge'])
    ip(['-n', sw, 'addr', 'add', `${GATEWAY}/24`, 'dev', 'br0'])
    ip(['-n', sw, 'link', 'set', 'br0', 'up'])
    labels.forEach((label, i) => {
      const netns = `${tag}-${label}`
      const addr = `${SUBNET}.${i + 1}`
      addNetns(netns)
      // both ends are created from inside the switch namespace: nothing appears in the root namespace
      ip(['-n', sw, 'link', 'add', `p-${label}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns])
      ip(['-n', sw, 'link', 'set', `p-${label}`, 'master', 'br0'])
      ip(['-n', sw, 'link', 'set', `p-${label}`, 'up'])
      ip(['-n', netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
      ip(['-n', netns, 'link', 'set', 'eth0', 'up'])
      ip(['-n', netns, 'route', 'add', 'default', 'via', GATEWAY, 'dev', 'eth0'])
      hosts[label] = { label, netns, addr, prefix: ['ip', 'netns', 'exec', netns] }
    })
    if (hasPing()) {
      for (const h of Object.values(hosts)) waitForPing(h, GATEWAY)
    }
  } catch (err) {
    destroy()
    throw err
  }
  return { hosts, destroy }
}

/** Pings `target` from `host` until it answers (the bridge port may still be coming up). */
function waitForPing (host: LabHost, target: string): void {
  const end = Date.now() + LINK_READY_MS
  let last = ''
  while (Date.now() < end) {
    const r = spawnSync('ip', ['netns', 'exec', host.netns, 'ping', '-c', '1', '-W', '1', target], { encoding: 'utf8', timeout: CMD_TIMEOUT_MS })
    if (r.status === 0) return
    last = (r.stdout + r.stderr).trim()
  }
  throw new LabSetupError(`${host.label} (${host.addr}) cannot reach ${target} within ${LINK_READY_MS} ms: ${last}`)
}
