import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'
import type { ApiInfo } from '../../../sidecar/src/daemon/api-info.ts'

/** `meshlink up` exits with this when a sidecar already runs for the state dir (sidecar/src/cli/exit-codes.ts). */
export const EXIT_ALREADY_RUNNING = 4

/** The sidecar's first stdout line was not the API info. */
export class HandshakeError extends Error {
  readonly name = 'HandshakeError'
}

/** Parses and checks the one JSON line `meshlink up --handshake` prints (the ApiInfo of api.json). */
export function parseHandshake (line: string): ApiInfo {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line) as Record<string, unknown>
  } catch {
    throw new HandshakeError(`the sidecar's handshake is not JSON: ${JSON.stringify(line.slice(0, 200))}`)
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new HandshakeError('the sidecar\'s handshake is not a JSON object')
  if (o.v !== 1) throw new HandshakeError(`the sidecar speaks handshake version ${JSON.stringify(o.v)}; this extension understands 1 (update the extension or the sidecar)`)
  for (const k of ['router', 'events', 'token', 'peerId', 'stateDir'] as const) {
    if (typeof o[k] !== 'string' || o[k] === '') throw new HandshakeError(`the sidecar's handshake has no ${k}`)
  }
  if (!Number.isInteger(o.pid) || (o.pid as number) <= 0) throw new HandshakeError('the sidecar\'s handshake has no pid')
  if (!/^(tcp|ipc):\/\//.test(o.router as string) || !/^(tcp|ipc):\/\//.test(o.events as string)) {
    throw new HandshakeError('the sidecar\'s handshake endpoints are not tcp:// or ipc://')
  }
  return o as unknown as ApiInfo
}

/** What came first from a starting sidecar: its handshake, or its exit. */
export type HandshakeOutcome =
  | { kind: 'ready', info: ApiInfo }
  | { kind: 'exited', code: number | null, signal: NodeJS.Signals | null }

/** The parts of a ChildProcess the handshake reader uses. */
export type HandshakeSource = Pick<ChildProcess, 'stdout' | 'once' | 'removeListener'>

/**
 * Waits for the first stdout line (parsed with parseHandshake) or the process's exit, whichever
 * comes first; rejects on timeout or abort. Later stdout lines are ignored.
 */
export function readHandshake (child: HandshakeSource, signal: AbortSignal): Promise<HandshakeOutcome> {
  return new Promise((resolve, reject) => {
    if (child.stdout === null) { reject(new HandshakeError('the sidecar has no stdout pipe')); return }
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity })
    const done = (): void => {
      rl.removeListener('line', onLine)
      child.removeListener('exit', onExit)
      signal.removeEventListener('abort', onAbort)
      // keep draining stdout so a chatty sidecar never blocks on a full pipe
      rl.on('line', () => {})
    }
    const onLine = (line: string): void => {
      if (line.trim() === '') return
      done()
      try { resolve({ kind: 'ready', info: parseHandshake(line) }) } catch (err) { reject(err) }
    }
    const onExit = (code: number | null, sig: NodeJS.Signals | null): void => { done(); resolve({ kind: 'exited', code, signal: sig }) }
    const onAbort = (): void => { done(); reject(signal.reason instanceof Error ? signal.reason : new HandshakeError('aborted')) }
    if (signal.aborted) { onAbort(); return }
    rl.on('line', onLine)
    child.once('exit', onExit)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** One sidecar stderr line (`2026-11-24T03:00:00.000Z INFO [scope] message`) split for the log channel. */
export function parseLogLine (line: string): { level: 'debug' | 'info' | 'warn' | 'error', text: string } {
  const m = /^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|WARN|ERROR) (.*)$/.exec(line)
  if (!m) return { level: 'warn', text: line } // unformatted: a crash trace or a CLI message
  return { level: m[1].toLowerCase() as 'debug' | 'info' | 'warn' | 'error', text: m[2] }
}
