/** Restart policy for a crashing sidecar. */
export interface BackoffOptions {
  /** First delay. @default 500 */
  initialMs?: number
  /** Each further delay is multiplied by this. @default 2 */
  factor?: number
  /** Longest delay. @default 30000 */
  maxMs?: number
  /** A sidecar that ran this long counts as healthy: the next crash starts over at initialMs. @default 60000 */
  healthyAfterMs?: number
  /** Give up after this many restarts without a healthy run. @default 6 */
  maxAttempts?: number
}

/**
 * Exponential backoff with a reset after a healthy run: 0.5 s, 1 s, 2 s, 4 s, 8 s, 16 s, then give up
 * (the user can still restart by hand). No jitter: one extension restarts one local process.
 */
export class Backoff {
  private readonly initialMs: number
  private readonly factor: number
  private readonly maxMs: number
  private readonly healthyAfterMs: number
  private readonly maxAttempts: number
  private attempt = 0
  private runningSince: number | undefined

  constructor (opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 500
    this.factor = opts.factor ?? 2
    this.maxMs = opts.maxMs ?? 30_000
    this.healthyAfterMs = opts.healthyAfterMs ?? 60_000
    this.maxAttempts = opts.maxAttempts ?? 6
  }

  /** Restarts so far in the current crash streak. */
  get attempts (): number { return this.attempt }

  /** The sidecar is up (handshake done) at `now`. */
  started (now: number): void {
    this.runningSince = now
  }

  /** The sidecar failed at `now`: the delay before the next start, or undefined to give up. */
  next (now: number): number | undefined {
    if (this.runningSince !== undefined && now - this.runningSince >= this.healthyAfterMs) this.attempt = 0
    this.runningSince = undefined
    if (this.attempt >= this.maxAttempts) return undefined
    const delay = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt)
    this.attempt++
    return delay
  }

  /** A start by the user: forget the streak. */
  reset (): void {
    this.attempt = 0
    this.runningSince = undefined
  }
}
