interface Waiter {
  n: number
  resolve: () => void
  reject: (reason: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/**
 * A token bucket in bytes per second (one second of burst). `null` rate: no limit. Callers wait in
 * order (first come, first served) and one timer serves the queue. Each waiter used to sleep and retry
 * on its own timer: a fetch's pipeline of waiting requests woke all together for every chunk the
 * bucket let through. At a 12.5 MB/s cap over loopback, that was a large part of the fetcher's CPU per
 * byte (timers and AbortSignal listeners on every wake), and requests went out in no particular order.
 */
export class RateLimiter {
  private rate: number | null
  private tokens = 0
  private last = Date.now()
  private readonly queue: Waiter[] = []
  private timer: NodeJS.Timeout | undefined

  constructor (bytesPerSec: number | null) {
    this.rate = bytesPerSec
    this.tokens = bytesPerSec ?? 0
  }

  get bytesPerSec (): number | null { return this.rate }

  /** Changes the rate; waiters are served by the new one (all at once when it is `null`). */
  set bytesPerSec (r: number | null) {
    this.refill()
    this.rate = r
    this.tokens = Math.min(this.tokens, r ?? 0)
    this.reschedule()
  }

  /** Waiting callers. */
  get waiting (): number { return this.queue.length }

  /** Waits until `n` bytes may pass (after everyone who asked before). Rejects with the signal's reason if it aborts first. */
  take (n: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    if (this.rate === null) return Promise.resolve()
    if (this.queue.length === 0 && this.tryTake(n)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { n, resolve, reject, signal, onAbort: undefined }
      if (signal !== undefined) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w)
          if (i >= 0) this.queue.splice(i, 1)
          reject(signal.reason)
          if (i === 0) this.reschedule()
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      this.queue.push(w)
      if (this.queue.length === 1) this.serve()
    })
  }

  private refill (): void {
    const now = Date.now()
    if (this.rate !== null) this.tokens = Math.min(this.rate, this.tokens + (now - this.last) * this.rate / 1000)
    this.last = now
  }

  /** Takes `n` bytes if the bucket holds them (or a full bucket, for a take larger than the bucket). */
  private tryTake (n: number): boolean {
    if (this.rate === null) return true
    this.refill()
    if (this.tokens < Math.min(n, this.rate)) return false
    this.tokens -= n
    return true
  }

  /** Lets through the waiters at the head of the queue that fit, then sleeps until the next one does. */
  private serve (): void {
    if (this.timer !== undefined) return
    while (this.queue.length > 0 && this.tryTake(this.queue[0].n)) {
      const w = this.queue.shift()!
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort)
      w.resolve()
    }
    if (this.queue.length === 0 || this.rate === null) return
    const wait = Math.max(1, Math.ceil((Math.min(this.queue[0].n, this.rate) - this.tokens) * 1000 / this.rate))
    this.timer = setTimeout(() => { this.timer = undefined; this.serve() }, wait)
  }

  private reschedule (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.serve()
  }
}
