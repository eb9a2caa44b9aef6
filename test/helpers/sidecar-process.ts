import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { MeshlinkClient, EventStream, type EventMessage } from '../../sidecar/src/client/client.ts'
import type { ApiInfo } from '../../sidecar/src/daemon/api-info.ts'
import type { Transfer } from '../../sidecar/src/gen/protocol-types.ts'
import { SIDECAR_NODE_FLAGS } from '../../sidecar/src/daemon/node-flags.ts'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The bundled CLI/sidecar (built by `npm run build`). */
export const SIDECAR_BUNDLE = join(ROOT, 'dist', 'meshlink.mjs')

export interface SidecarProcess {
  proc: ChildProcess
  info: ApiInfo
  client: MeshlinkClient
  stateDir: string
  /** Everything the process wrote to stderr so far. */
  stderr(): string
  /** SIGTERM (or `signal`), wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface StartOptions {
  stateDir?: string
  name?: string
  args?: string[]
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] to run inside a network namespace. */
  prefix?: string[]
  env?: NodeJS.ProcessEnv
  /** @default 15000 */
  timeoutMs?: number
}

/** A fresh temp dir for a sidecar's state; removed by the returned cleanup. */
export function tempStateDir (label = 'ml'): string {
  return mkdtempSync(join(tmpdir(), `${label}-`))
}

/**
 * Starts a real sidecar process (`meshlink up --handshake`, with the node flags the launchers pass)
 * and connects a client to it. Defaults: loopback listen on a random port, mDNS off.
 */
export async function startSidecar (opts: StartOptions = {}): Promise<SidecarProcess> {
  const stateDir = opts.stateDir ?? tempStateDir()
  const args = [...SIDECAR_NODE_FLAGS, SIDECAR_BUNDLE, 'up', '--handshake', '--state', stateDir,
    ...(opts.name ? ['--name', opts.name] : []),
    ...(opts.args ?? ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])]
  const cmd = [...(opts.prefix ?? []), process.execPath, ...args]
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const info = await new Promise<ApiInfo>((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL') // a sidecar that never became ready is not left behind
      reject(new Error(`sidecar did not hand shake within ${opts.timeoutMs ?? 15000} ms; stderr:\n${err}`))
    }, opts.timeoutMs ?? 15000)
    const rl = createInterface({ input: proc.stdout! })
    rl.once('line', (line) => { clearTimeout(t); try { resolve(JSON.parse(line)) } catch (e) { reject(e as Error) } })
    void exited.then((code) => { clearTimeout(t); reject(new Error(`sidecar exited with ${code} before the handshake; stderr:\n${err}`)) })
  })
  const client = new MeshlinkClient(info, { timeoutMs: 20_000 })
  return {
    proc,
    info,
    client,
    stateDir,
    stderr: () => err,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      client.close()
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill(signal)
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(t)
      return code
    }
  }
}

/** Removes a state dir made by tempStateDir(). */
export function removeStateDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T> (fn: () => Promise<T> | T, what: string, timeoutMs = 15_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < end) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
    } catch (err) { last = err }
    await new Promise(r => setTimeout(r, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
}

/** Collects events from a sidecar until closed. */
export function collectEvents (info: ApiInfo, topics: string[] = []): { events: EventMessage[], close(): void } {
  const stream = new EventStream(info, topics)
  const events: EventMessage[] = []
  void (async () => { for await (const e of stream) events.push(e) })()
  return { events, close: () => stream.close() }
}

/** Waits until transfer `id` of sidecar `s` is no longer running (done, failed or cancelled); returns it. */
export async function transferEnded (s: SidecarProcess, id: string, timeoutMs = 60_000): Promise<Transfer> {
  return waitFor(async () => {
    const t = (await s.client.call('transfers.list')).transfers.find(x => x.id === id)
    return t && t.state !== 'running' ? t : undefined
  }, `transfer ${id} to end`, timeoutMs, 50)
}
