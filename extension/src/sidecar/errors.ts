/** A command needs the sidecar, and it is not running (stopped, starting, restarting or failed). */
export class SidecarDownError extends Error {
  readonly name = 'SidecarDownError'
  /** Why it is down, when known (the last start failure). */
  readonly reason: Error | undefined
  constructor (message: string, reason?: Error) {
    super(message)
    this.reason = reason
  }
}

/** The sidecar process ended before its handshake. */
export class SidecarExitedError extends Error {
  readonly name = 'SidecarExitedError'
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** The last lines it wrote to stderr. */
  readonly stderrTail: string
  constructor (code: number | null, signal: NodeJS.Signals | null, stderrTail: string) {
    super(`the sidecar exited (${signal ?? `code ${code}`}) before it was ready${stderrTail ? `: ${stderrTail.trim().split('\n').slice(-1)[0]}` : ''}`)
    this.code = code
    this.signal = signal
    this.stderrTail = stderrTail
  }
}

/** The sidecar kept crashing: automatic restarts stopped. */
export class SidecarGaveUpError extends Error {
  readonly name = 'SidecarGaveUpError'
  readonly attempts: number
  readonly last: Error | undefined
  constructor (attempts: number, last?: Error) {
    super(`the sidecar failed ${attempts} times in a row${last ? ` (last: ${last.message})` : ''}; automatic restarts stopped`)
    this.attempts = attempts
    this.last = last
  }
}
