import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { sleep } from './child-processes.ts'

/**
 * How busy the machine was around a phase. On a 2-core box other work moves every number, so each
 * phase records the load before it and, during it, how much CPU went to processes that are not
 * the bench or its children (children count once the bench has reaped them, which it does at the
 * end of each phase).
 */
export interface MachineLoad {
  load1: number
  /** Share of all cores busy over the sampled window (from /proc/stat), null where unavailable. */
  busyPct: number | null
  /** Of that, the share used by processes other than this bench and its children. */
  othersPct: number | null
}

interface Ticks { busy: number, total: number, ours: number }

/** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal … (clock ticks). */
function cpuFields (): number[] | undefined {
  try { return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number) } catch { return undefined }
}

function ticks (): Ticks | undefined {
  const f = cpuFields()
  if (f === undefined) return undefined
  try {
    const idle = f[3] + (f[4] ?? 0) // idle + iowait
    const total = f.reduce((a, b) => a + b, 0)
    // /proc/self/stat fields 14-17: utime stime cutime cstime (clock ticks, like /proc/stat)
    const self = readFileSync('/proc/self/stat', 'utf8')
    const rest = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number)
    const ours = rest[11] + rest[12] + rest[13] + rest[14]
    return { busy: total - idle, total, ours }
  } catch {
    return undefined
  }
}

function between (a: Ticks | undefined, b: Ticks | undefined): MachineLoad {
  const ok = a !== undefined && b !== undefined && b.total > a.total
  return {
    load1: loadavg()[0],
    busyPct: ok ? 100 * (b.busy - a.busy) / (b.total - a.total) : null,
    othersPct: ok ? Math.max(0, 100 * ((b.busy - a.busy) - (b.ours - a.ours)) / (b.total - a.total)) : null
  }
}

/** Samples the machine for `windowMs` while the bench itself is idle. */
export async function sampleLoad (windowMs = 1_000): Promise<MachineLoad> {
  const a = ticks()
  await sleep(windowMs)
  return between(a, ticks())
}

/** Shares of all cores over a window, by kind of work (from /proc/stat). */
export interface CpuShares { busyPct: number, userPct: number, systemPct: number, softirqPct: number, stealPct: number }

/**
 * Starts watching how the cores were used; the result, called at the end of the window, gives the
 * shares (undefined where /proc/stat is missing). For a run whose processes all live on this machine
 * (the namespace LAN) it tells a tool that is short of CPU from one that waits for the network.
 */
export function watchCpuShares (): () => CpuShares | undefined {
  const a = cpuFields()
  return () => {
    const b = cpuFields()
    if (a === undefined || b === undefined) return undefined
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const d = b.slice(0, 8).map((v, i) => v - a[i])
    const total = d.reduce((x, y) => x + y, 0)
    if (total <= 0) return undefined
    const pct = (v: number): number => 100 * v / total
    return { busyPct: pct(total - d[3] - d[4]), userPct: pct(d[0] + d[1]), systemPct: pct(d[2] + d[5]), softirqPct: pct(d[6]), stealPct: pct(d[7]) }
  }
}

/** "97 % busy (user 70, system 20, softirq 7, steal 0.3)". */
export function describeShares (m: CpuShares): string {
  return `${m.busyPct.toFixed(0)} % busy (user ${m.userPct.toFixed(0)}, system ${m.systemPct.toFixed(0)}, softirq ${m.softirqPct.toFixed(0)}, steal ${m.stealPct.toFixed(1)})`
}

/** Starts watching; call the result when the phase is over (after its processes have exited). */
export function watchLoad (): () => MachineLoad {
  const a = ticks()
  return () => between(a, ticks())
}
