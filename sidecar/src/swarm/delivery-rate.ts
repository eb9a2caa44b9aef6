import { RATE_SPAN_MS, STALLED_AFTER_MS } from './constants.ts'

/**
 * A peer's delivery rate in bytes/s: bytes that arrived over spans of at least RATE_SPAN_MS during
 * which it had requests in flight the whole time, smoothed across spans (time it spent with nothing
 * asked of it does not count against it). The estimate it replaces, each chunk's size over its request
 * latency scaled by the requests ahead of it, swung by 2x either way on the namespace LAN (a
 * 12.5 MB/s seeder read as 5 to 40 MB/s), and the pipelines sized from it swung with it.
 */
export class DeliveryRate {
  private spanStart = -1
  private spanBytes = 0
  private value = 0
  private last = 0

  /** 0 until something was measured. */
  get bytesPerSec (): number { return this.value }

  /**
   * The rate to show at `now` (ms): the measured one, or 0 while the peer has requests in flight and
   * has delivered nothing for STALLED_AFTER_MS (it went silent; its measured rate says what it did).
   */
  shownAt (now: number): number {
    return this.spanStart >= 0 && now - this.last >= STALLED_AFTER_MS ? 0 : this.value
  }

  /** When (ms) bytes last arrived during a busy span, or the current span began if none did yet. */
  get lastAt (): number { return this.last }

  /** The peer's pipeline went from empty to busy at `now` (ms). */
  start (now: number): void {
    if (this.spanStart >= 0) return
    this.spanStart = now
    this.spanBytes = 0
    this.last = now
  }

  /** `bytes` arrived at `now` while the pipeline was busy. */
  add (bytes: number, now: number): void {
    if (this.spanStart < 0) return
    this.last = now
    this.spanBytes += bytes
    const ms = now - this.spanStart
    if (ms < RATE_SPAN_MS) return
    this.mix(this.spanBytes * 1000 / ms)
    this.spanStart = now
    this.spanBytes = 0
  }

  /**
   * The pipeline is empty at `now`: the span ends. A span shorter than RATE_SPAN_MS counts only while
   * nothing else was measured (a small fetch, or a peer given one chunk at a time).
   */
  stop (now: number): void {
    if (this.spanStart < 0) return
    const ms = now - this.spanStart
    if (this.value === 0 && this.spanBytes > 0 && ms > 0) this.value = this.spanBytes * 1000 / ms
    this.spanStart = -1
    this.spanBytes = 0
  }

  private mix (rate: number): void {
    this.value = this.value === 0 ? rate : this.value * 0.5 + rate * 0.5
  }
}
