/** A token bucket in bytes per second (one second of burst). `null` rate: no limit. */
export class RateLimiter {
  private rate: number | null
  private tokens = 0
  private last = Date.now()

  constructor (bytesPerSec: number | null) {
    this.rate = bytesPerSec
    this.tokens = bytesPerSec ?? 0
  }

  get bytesPerSec (): number | null { return this.rate }

  set bytesPerSec (r: number | null) {
    this.rate = r
    this.tokens = Math.min(this.tokens, r ?? 0)
  }

  /** Waits until `n` bytes may pass. */
  async take (n: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const rate = this.rate
      if (rate === null) return
      const now = Date.now()
      this.tokens = Math.min(rate, this.tokens + (now - this.last) * rate / 1000)
      this.last = now
      if (this.tokens >= Math.min(n, rate)) { this.tokens -= n; return }
      const wait = Math.ceil((Math.min(n, rate) - this.tokens) * 1000 / rate)
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, wait)
        const onAbort = (): void => { clearTimeout(t); reject(signal?.reason) }
        signal?.addEventListener('abort', onAbort, { once: true })
      })
      signal?.throwIfAborted()
    }
  }
}
