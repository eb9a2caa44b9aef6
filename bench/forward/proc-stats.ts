// /proc readings for the forward bench: CPU time of a process tree and peak RSS while a load runs.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { readMemory } from '../lib/sidecar-process.ts'

let clkTck = 100
try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { /* 100 on Linux */ }

/**
 * user+system CPU seconds of one process plus those of its children it has reaped (so forked
 * per-connection children of socat/sshd still count after they exit), or NaN when it is gone.
 */
export function cpuSeconds (pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clkTck // utime, stime, cutime, cstime (fields 14-17)
  } catch {
    return Number.NaN
  }
}

/** The process and every live descendant (e.g. sshd's per-connection children). */
export function processTree (root: number): number[] {
  const parent = new Map<number, number>()
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8')
      parent.set(Number(e), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]))
    } catch { /* exited meanwhile */ }
  }
  const out = [root]
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid)
  return out
}

/**
 * CPU seconds used by a set of processes between this call and the returned stop(). `pids` is
 * asked again at the end, so children born meanwhile count (from 0) and children that exited
 * count through their parent's reaped-children time.
 */
export function cpuMeter (pids: () => number[]): () => number {
  let before = 0
  for (const p of pids()) { const v = cpuSeconds(p); if (Number.isFinite(v)) before += v }
  return () => {
    let after = 0
    for (const p of pids()) { const v = cpuSeconds(p); if (Number.isFinite(v)) after += v }
    return Math.max(0, after - before)
  }
}

/** Samples VmRSS of some processes every `everyMs` until stopped; returns the peak per PID (MB, 10^6 B). */
export function rssSampler (pids: number[], everyMs = 100): () => Record<number, number> {
  const peak: Record<number, number> = {}
  const sample = (): void => {
    for (const p of pids) {
      const m = readMemory(p)
      if (m && Number.isFinite(m.rssMB)) peak[p] = Math.max(peak[p] ?? 0, m.rssMB)
    }
  }
  sample()
  const t = setInterval(sample, everyMs)
  return () => { clearInterval(t); sample(); return peak }
}
