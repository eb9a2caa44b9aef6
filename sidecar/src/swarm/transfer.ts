import { randomBytes } from 'node:crypto'
import type { Transfer } from '../gen/protocol-types.ts'
import { PROGRESS_HEARTBEAT_MS, PROGRESS_INTERVAL_MS, STALLED_AFTER_MS } from './constants.ts'

export type TransferErrorCode = NonNullable<Transfer['error']>['code']
export type PeerProgress = Transfer['peers'][number]

/**
 * A publish or fetch: its counters, its rate (EWMA; 0 once nothing moved for STALLED_AFTER_MS), and
 * progress notifications: throttled to one per PROGRESS_INTERVAL_MS, and at least one per
 * PROGRESS_HEARTBEAT_MS while it runs, so that a stall shows as one.
 */
export class TransferState {
  readonly id = randomBytes(6).toString('hex')
  readonly controller = new AbortController()
  readonly kind: Transfer['kind']
  readonly path: string
  readonly startedAt = new Date().toISOString()
  state: Transfer['state'] = 'running'
  artifact: string | null = null
  tag: string | null
  bytesTotal = 0
  bytesDone = 0
  bytesFromPeers = 0
  chunksTotal = 0
  chunksDone = 0
  finishedAt: string | null = null
  error: Transfer['error'] = null
  peers: () => PeerProgress[] = () => []
  private rate = 0
  private lastSample = { t: Date.now(), bytes: 0 }
  /** When it last progressed, or a sample saw the rate's byte count grow (ms). */
  private lastMovedAt = Date.now()
  private timer: NodeJS.Timeout | undefined
  private lastNotifiedAt = Date.now()
  private readonly heartbeat: NodeJS.Timeout
  private readonly onProgress: (t: TransferState) => void

  constructor (kind: Transfer['kind'], path: string, tag: string | null, onProgress: (t: TransferState) => void) {
    this.kind = kind
    this.path = path
    this.tag = tag
    this.onProgress = onProgress
    // runs until finish(), the only place state leaves 'running'
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastNotifiedAt >= PROGRESS_HEARTBEAT_MS) this.notify()
    }, PROGRESS_HEARTBEAT_MS / 4)
    this.heartbeat.unref()
  }

  get signal (): AbortSignal { return this.controller.signal }

  /** Counts progress; notifies at most every PROGRESS_INTERVAL_MS. */
  progressed (): void {
    this.lastMovedAt = Date.now()
    if (this.timer !== undefined || this.state !== 'running') return
    this.timer = setTimeout(() => { this.timer = undefined; if (this.state === 'running') this.notify() }, PROGRESS_INTERVAL_MS)
    this.timer.unref()
  }

  private notify (): void {
    this.lastNotifiedAt = Date.now()
    this.onProgress(this)
  }

  /** Bytes/s over the last samples (what the rate is based on: network bytes for a fetch, read bytes for a publish). */
  private sample (): number {
    const now = Date.now()
    const bytes = this.kind === 'fetch' ? this.bytesFromPeers : this.bytesDone
    const dt = now - this.lastSample.t
    if (dt >= 200) {
      const r = (bytes - this.lastSample.bytes) * 1000 / dt
      this.rate = this.rate === 0 ? r : this.rate * 0.6 + r * 0.4
      if (bytes !== this.lastSample.bytes) this.lastMovedAt = now
      this.lastSample = { t: now, bytes }
    }
    if (now - this.lastMovedAt >= STALLED_AFTER_MS) this.rate = 0
    return this.rate
  }

  finish (state: 'done' | 'failed' | 'cancelled', error: Transfer['error'] = null): void {
    clearTimeout(this.timer)
    clearInterval(this.heartbeat)
    this.state = state
    this.error = error
    this.finishedAt = new Date().toISOString()
  }

  toJSON (): Transfer {
    const rate = this.state === 'running' ? this.sample() : 0
    const left = this.bytesTotal - this.bytesDone
    return {
      id: this.id,
      kind: this.kind,
      state: this.state,
      artifact: this.artifact,
      tag: this.tag,
      path: this.path,
      bytesTotal: this.bytesTotal,
      bytesDone: this.bytesDone,
      bytesFromPeers: this.bytesFromPeers,
      chunksTotal: this.chunksTotal,
      chunksDone: this.chunksDone,
      rateBytesPerSec: Math.max(0, Math.round(rate)),
      etaMs: this.state !== 'running' ? null : left <= 0 ? 0 : rate > 0 ? Math.round(left * 1000 / rate) : null,
      peers: this.peers(),
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      error: this.error
    }
  }
}
