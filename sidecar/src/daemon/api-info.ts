import { readJsonFile } from '../state/json-file.ts'

/** What a running sidecar writes to `<state>/api.json` (0600) and, with --handshake, prints as one JSON line. */
export interface ApiInfo {
  v: 1
  pid: number
  version: string
  protocolVersion: number
  /** ROUTER endpoint for requests. */
  router: string
  /** PUB endpoint for events. */
  events: string
  /** Put in every request's `token`. */
  token: string
  peerId: string
  stateDir: string
  startedAt: string
}

/** Thrown when no sidecar is running for a state dir. */
export class NotRunningError extends Error {
  readonly name = 'NotRunningError'
}

function isAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Reads and checks api.json; throws NotRunningError when absent or stale (its pid is gone). */
export function readApiInfo (path: string): ApiInfo {
  let o: Partial<ApiInfo> | undefined
  try {
    o = readJsonFile(path) as Partial<ApiInfo> | undefined
  } catch (err) {
    throw new NotRunningError(`${path} is unreadable: ${(err as Error).message}`)
  }
  if (o === undefined) throw new NotRunningError(`no sidecar is running (no ${path}); start one with \`meshlink up\``)
  if (typeof o.router !== 'string' || typeof o.events !== 'string' || typeof o.token !== 'string' || !Number.isInteger(o.pid)) {
    throw new NotRunningError(`${path} is incomplete; restart the sidecar`)
  }
  if (!isAlive(o.pid!)) throw new NotRunningError(`the sidecar that wrote ${path} (pid ${o.pid}) is gone; start one with \`meshlink up\``)
  return o as ApiInfo
}
