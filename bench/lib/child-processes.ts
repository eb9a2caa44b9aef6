import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { createInterface } from 'node:readline'

/**
 * Every process the benchmark starts, by PID, so that they are all ended (and only they) when a
 * phase finishes, when the benchmark fails, or when it is interrupted.
 */
const live = new Map<number, ChildProcess>()

export interface Tracked {
  proc: ChildProcess
  pid: number
  label: string
  /** Lines the process wrote to stdout, one at a time. */
  lines: LineReader
  /** The last few KiB the process wrote to stderr. */
  stderr(): string
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string | null>
}

const STDERR_TAIL = 8 * 1024

/** Spawns a process with piped stdio and remembers its PID until it exits. */
export function spawnTracked (label: string, cmd: string, args: string[], opts: SpawnOptions = {}): Tracked {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
  if (proc.pid === undefined) throw new Error(`could not start ${label} (${cmd})`)
  const pid = proc.pid
  live.set(pid, proc)
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-STDERR_TAIL) })
  const exited = new Promise<number | string | null>((resolve) => {
    proc.once('exit', (code, signal) => { live.delete(pid); resolve(code ?? signal) })
  })
  const t: Tracked = { proc, pid, label, lines: undefined as unknown as LineReader, stderr: () => err, exited }
  t.lines = new LineReader(t)
  return t
}

/**
 * Reads a child's stdout line by line; `next()` waits a bounded time and fails with the child's
 * stderr when it exits or stays silent instead.
 */
export class LineReader {
  private readonly queue: string[] = []
  private waiter: ((line: string | undefined) => void) | undefined
  private ended = false
  private readonly t: Tracked

  constructor (t: Tracked) {
    this.t = t
    const rl = createInterface({ input: t.proc.stdout! })
    rl.on('line', (line) => {
      if (this.waiter) { const w = this.waiter; this.waiter = undefined; w(line) } else this.queue.push(line)
    })
    rl.on('close', () => {
      this.ended = true
      if (this.waiter) { const w = this.waiter; this.waiter = undefined; w(undefined) }
    })
  }

  async next (timeoutMs: number, what: string): Promise<string> {
    const queued = this.queue.shift()
    if (queued !== undefined) return queued
    if (this.ended) throw new Error(`${this.t.label} (pid ${this.t.pid}) closed stdout before ${what}; stderr:\n${this.t.stderr()}`)
    const line = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => { this.waiter = undefined; resolve(undefined) }, timeoutMs)
      this.waiter = (l) => { clearTimeout(timer); resolve(l) }
    })
    if (line === undefined) {
      throw new Error(`${this.t.label} (pid ${this.t.pid}) gave no ${what} within ${timeoutMs} ms${this.ended ? ' (stdout closed)' : ''}; stderr:\n${this.t.stderr()}`)
    }
    return line
  }

  /** The next line parsed as JSON. */
  async nextJson<T> (timeoutMs: number, what: string): Promise<T> {
    const line = await this.next(timeoutMs, what)
    try {
      return JSON.parse(line) as T
    } catch {
      throw new Error(`${this.t.label} printed "${line.slice(0, 200)}" where ${what} (JSON) was expected`)
    }
  }
}

/** Ends one process we started: SIGTERM by PID, SIGKILL after `graceMs`; resolves with its exit code. */
export async function stopTracked (t: Tracked, graceMs = 5_000): Promise<number | string | null> {
  if (!live.has(t.pid)) return t.exited
  try { process.kill(t.pid, 'SIGTERM') } catch { /* already gone */ }
  const timer = setTimeout(() => { if (live.has(t.pid)) try { process.kill(t.pid, 'SIGKILL') } catch { /* gone */ } }, graceMs)
  const code = await t.exited
  clearTimeout(timer)
  return code
}

/** Ends every process still running (synchronously: usable from an 'exit' handler). */
export function killAllSync (): void {
  for (const pid of live.keys()) {
    try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
  }
  live.clear()
}

/** Ends every process still running, gracefully first. */
export async function stopAll (graceMs = 3_000): Promise<void> {
  const ps = [...live.values()]
  for (const p of ps) {
    try { process.kill(p.pid!, 'SIGTERM') } catch { /* gone */ }
  }
  const end = Date.now() + graceMs
  while (live.size > 0 && Date.now() < end) await sleep(50)
  killAllSync()
}

/** Kills our children if the benchmark itself exits or is interrupted. */
export function installCleanupHandlers (): void {
  process.on('exit', killAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}; ending the processes it started\n`)
      killAllSync()
      process.exit(130)
    })
  }
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
