import type { MeshLibp2p } from '../node/create-node.ts'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { CorruptChunkError, NoSpaceError } from '../store/errors.ts'
import { hashParts } from '../store/chunk-store.ts'
import { byteLength } from '../store/fs-calls.ts'
import { uniqueChunks } from '../store/manifest.ts'
import { PeerSession, NotHeldError } from './peer-session.ts'
import { RateLimiter } from './rate-limit.ts'
import { DeliveryRate } from './delivery-rate.ts'
import type { TransferState, PeerProgress } from './transfer.ts'
import { ENDGAME_MIN_GAIN_S, IN_FLIGHT_BYTES, INITIAL_IN_FLIGHT_BYTES, MAX_DEPTH, MIN_IN_FLIGHT_BYTES, PENDING_WRITE_BYTES, PIPELINE_SECONDS, REFILL_SHARE, REFRESH_MS, REQUEST_TIMEOUT_MS, STALL_TIMEOUT_MS } from './constants.ts'
import type { Logger } from '../log/logger.ts'

/** A member that announced the artifact. */
export interface Holder {
  peer: string
  name: string | null
  complete: boolean
  rttMs: number | null
}

/** No connected member can serve the chunks still missing. */
export class NoHoldersError extends Error {
  readonly name = 'NoHoldersError'
}

export interface FetcherInit {
  node: MeshLibp2p
  store: ArtifactStore
  transfer: TransferState
  id: string
  /** Ends the fetch (its reason is the error); default: the transfer's signal. */
  signal?: AbortSignal
  /** Members that announce the artifact now (asked again every REFRESH_MS). */
  holders(): Holder[]
  download: RateLimiter
  /**
   * Keeps a verified chunk (given as the parts it arrived in): into the store and the output tree.
   * Several run at once, while further chunks arrive; the fetch ends when every one has resolved.
   */
  keep(hash: string, parts: readonly Uint8Array[]): Promise<void>
  /** A chunk was stored (so this node can announce what it has). */
  onChunk(): void
  log: Logger
}

interface PeerState {
  holder: Holder
  /**
   * Lowest RTT seen for it during this fetch (ms; null: none yet): about its path's round trip. The
   * latest RTT is not: a ping taken while a fetch fills the peer's link waits behind the data in its
   * send queue (10-50 ms on the namespace LAN, against 0.1 ms idle). When every RTT seen so far was
   * taken under load it is too high, and the peer's window is larger by its rate times the excess,
   * which costs a little memory and nothing else.
   */
  minRttMs: number | null
  session: PeerSession | undefined
  opening: boolean
  /** Indexes of distinct chunks it has; null: all. */
  has: Set<number> | null
  state: PeerProgress['state']
  reason: string | null
  bytes: number
  chunks: number
  /** Bytes/s while it had requests in flight, and when it last delivered. */
  rate: DeliveryRate
  inFlight: Set<number>
  /** Bytes of the chunks in `inFlight`. */
  inFlightBytes: number
  failures: number
  retryAt: number
}

/**
 * Multi-peer chunk scheduling for one fetch. Every holder gets a pipeline of requests sized in bytes by
 * its measured rate and round trip, nearest peers served first; a peer pulls its next chunk as soon as
 * one arrives, so work splits by each peer's measured rate (LAN peers, being faster, do most of it).
 * Chunks are picked rarest first (fewest holders), in manifest order among equals. When nothing
 * is left to hand out, peers with room duplicate chunks in flight elsewhere that they would bring in
 * sooner (endgame), the first verified copy wins. A failing peer's chunks go back to the pool; a
 * peer that sends a chunk whose hash does not match is dropped for this fetch.
 */
export class Fetcher {
  private readonly init: FetcherInit
  private readonly chunks: Array<[string, number]>
  /** Index → done. */
  private readonly done: boolean[]
  private left = 0
  /** Bytes of verified chunks being kept (written); no new requests while PENDING_WRITE_BYTES are. */
  private writing = 0
  private readonly peers = new Map<string, PeerState>()
  /** Chunk index → peers it is requested from. */
  private readonly inFlight = new Map<number, Set<string>>()
  private order: number[] = []
  private orderDirty = true
  /** Entries of `order` before this one are done (what `next` need not look at again). */
  private orderStart = 0
  private lastProgress = Date.now()
  private finish!: (err?: Error) => void
  private timer: NodeJS.Timeout | undefined
  private ended = false
  private readonly signal: AbortSignal

  constructor (init: FetcherInit) {
    this.init = init
    this.signal = init.signal ?? init.transfer.signal
    this.chunks = uniqueChunks(init.store.manifest(init.id))
    this.done = this.chunks.map(([h]) => init.store.chunks.has(h))
    this.left = this.done.filter(d => !d).length
    init.transfer.peers = () => {
      const now = Date.now()
      return [...this.peers.values()].map(p => ({
        peer: p.holder.peer, name: p.holder.name, bytes: p.bytes, chunks: p.chunks, rateBytesPerSec: Math.round(p.rate.shownAt(now)), inFlight: p.inFlight.size, state: p.state, reason: p.reason
      }))
    }
  }

  /** Resolves when every chunk has been kept. */
  run (): Promise<void> {
    if (this.left === 0) return Promise.resolve()
    const signal = this.signal
    return new Promise<void>((resolve, reject) => {
      this.finish = (err) => {
        if (this.ended) return
        this.ended = true
        clearInterval(this.timer)
        signal.removeEventListener('abort', onAbort)
        for (const p of this.peers.values()) p.session?.close()
        if (err) reject(err); else resolve()
      }
      const onAbort = (): void => this.finish(signal.reason as Error)
      signal.addEventListener('abort', onAbort, { once: true })
      this.timer = setInterval(() => this.refresh(), REFRESH_MS)
      this.refresh()
    })
  }

  /** Picks up new holders, re-asks partial ones what they have, detects a stall. */
  private refresh (): void {
    if (this.ended) return
    const now = Date.now()
    for (const h of this.init.holders()) {
      let p = this.peers.get(h.peer)
      if (p === undefined) {
        p = { holder: h, minRttMs: null, session: undefined, opening: false, has: new Set(), state: 'idle', reason: null, bytes: 0, chunks: 0, rate: new DeliveryRate(), inFlight: new Set(), inFlightBytes: 0, failures: 0, retryAt: 0 }
        this.peers.set(h.peer, p)
      }
      p.holder = h
      if (h.rttMs !== null) p.minRttMs = Math.min(p.minRttMs ?? Infinity, h.rttMs)
      if (p.state === 'dropped' || p.opening) continue
      if (p.session === undefined && now >= p.retryAt) void this.openPeer(p)
      else if (p.session !== undefined && p.has !== null && !h.complete) void this.askHave(p)
    }
    if (now - this.lastProgress > STALL_TIMEOUT_MS) {
      this.finish(new NoHoldersError(`${this.left} chunk(s) missing and no connected member served any for ${STALL_TIMEOUT_MS / 1000} s (holders: ${[...this.peers.values()].map(p => `${p.holder.name ?? p.holder.peer.slice(-8)} ${p.state}${p.reason ? ` (${p.reason})` : ''}`).join(', ') || 'none'})`))
      return
    }
    this.pump()
  }

  private async openPeer (p: PeerState): Promise<void> {
    p.opening = true
    const s = new PeerSession(p.holder.peer)
    try {
      await s.open(this.init.node, this.signal)
      p.session = s
      p.has = p.holder.complete ? null : new Set()
      if (!p.holder.complete) await this.askHave(p)
      p.state = 'active'
      p.reason = null
    } catch (err) {
      s.close()
      this.failPeer(p, `cannot open a chunks stream: ${(err as Error).message}`)
    } finally {
      p.opening = false
    }
    this.pump()
  }

  private async askHave (p: PeerState): Promise<void> {
    const s = p.session
    if (!s) return
    try {
      const bits = await s.have(this.init.id, this.chunks.length)
      if (bits === null) p.has = null
      else { p.has = new Set(); bits.forEach((b, i) => { if (b) p.has!.add(i) }) }
      this.orderDirty = true
      this.pump()
    } catch (err) {
      if (err instanceof NotHeldError) { p.has = new Set(); return }
      this.failPeer(p, (err as Error).message)
    }
  }

  private holds (p: PeerState, i: number): boolean {
    return p.has === null || p.has.has(i)
  }

  /**
   * Chunks rarest first (ties in manifest order), from `orderStart` on. Recomputed only when what the
   * peers hold changes, not per finished chunk (that made a fetch quadratic in its chunk count).
   */
  private pickOrder (): number[] {
    if (this.orderDirty) {
      const usable = [...this.peers.values()].filter(p => p.session !== undefined && p.state !== 'dropped' && p.state !== 'failed')
      const rarity = (i: number): number => usable.reduce((n, p) => n + (this.holds(p, i) ? 1 : 0), 0)
      this.order = this.chunks.map((_, i) => i).filter(i => !this.done[i]).map(i => [i, rarity(i)]).sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(x => x[0])
      this.orderDirty = false
      this.orderStart = 0
    }
    while (this.orderStart < this.order.length && this.done[this.order[this.orderStart]]) this.orderStart++
    return this.order
  }

  /** Bytes a peer may have requested and not yet delivered: its rate over PIPELINE_SECONDS plus its round trip (see IN_FLIGHT_BYTES). */
  private window (p: PeerState): number {
    const rate = p.rate.bytesPerSec
    if (rate === 0) return INITIAL_IN_FLIGHT_BYTES
    return Math.min(IN_FLIGHT_BYTES, Math.max(MIN_IN_FLIGHT_BYTES, rate * (PIPELINE_SECONDS + (p.minRttMs ?? 0) / 1000)))
  }

  /**
   * Fills the pipelines of usable peers, nearest first. A peer's is topped up only once REFILL_SHARE of
   * it is free (or it is empty), so its requests go out several at a time, in one stream write.
   */
  private pump (): void {
    if (this.ended || this.writing >= PENDING_WRITE_BYTES) return
    const usable = [...this.peers.values()]
      .filter(p => p.session !== undefined && p.state === 'active' && (p.inFlight.size === 0 || p.inFlightBytes <= this.window(p) * (1 - REFILL_SHARE)))
      .sort((a, b) => (a.minRttMs ?? 1e9) - (b.minRttMs ?? 1e9))
    let progress = true
    while (progress) {
      progress = false
      for (const p of usable) {
        if (p.inFlight.size >= MAX_DEPTH || p.inFlightBytes >= this.window(p)) continue
        const i = this.next(p)
        if (i === undefined) continue
        this.request(p, i)
        progress = true
      }
    }
  }

  /** The chunk `p` should fetch next: rarest one nobody is fetching, else an endgame duplicate. */
  private next (p: PeerState): number | undefined {
    const order = this.pickOrder()
    for (let k = this.orderStart; k < order.length; k++) {
      const i = order[k]
      if (!this.done[i] && !this.inFlight.has(i) && this.holds(p, i)) return i
    }
    return this.endgame(p)
  }

  /**
   * Endgame (nothing left to hand out): the chunk in flight at another peer that `p` would bring in
   * soonest before it is due there, if by more than ENDGAME_MIN_GAIN_S. A chunk is due at its peer once
   * the bytes asked of that peer up to it have come at the peer's rate (it answers in order); `p`
   * would bring it after what it has in flight, at its own rate, plus its round trip. So a slow peer's
   * chunks are taken over, and so are the last ones queued at equal peers when some of them ran dry
   * first (their pipelines end up to PIPELINE_SECONDS apart). A peer whose first chunk in flight is
   * overdue (it went silent without closing the connection: a frozen process, a dead link) is taken to
   * stay late at least as long again, so its chunks move within about one chunk's time instead of
   * waiting for REQUEST_TIMEOUT_MS or the connection's failed pings. Each chunk is asked of two peers
   * at most; the first verified copy wins.
   */
  private endgame (p: PeerState): number | undefined {
    const rate = p.rate.bytesPerSec
    if (rate === 0) return undefined
    const rtt = (p.minRttMs ?? 0) / 1000
    const now = Date.now()
    let best: number | undefined
    let bestGain = ENDGAME_MIN_GAIN_S
    for (const q of this.peers.values()) {
      if (q === p) continue
      const qRate = q.rate.bytesPerSec
      // how long overdue q's first chunk in flight is (q answers in the order asked, which Set keeps)
      const first = q.inFlight.values().next().value
      const late = first === undefined || qRate === 0 ? 0 : Math.max(0, (now - q.rate.lastAt) / 1000 - this.chunks[first][1] / qRate)
      let ahead = 0
      for (const i of q.inFlight) {
        const size = this.chunks[i][1]
        ahead += size
        const at = this.inFlight.get(i)
        if (this.done[i] || at === undefined || at.size >= 2 || at.has(p.holder.peer) || !this.holds(p, i)) continue
        const gain = (qRate === 0 ? Infinity : late + ahead / qRate) - ((p.inFlightBytes + size) / rate + rtt)
        if (gain > bestGain) { best = i; bestGain = gain }
      }
    }
    return best
  }

  private request (p: PeerState, i: number): void {
    const [hash, size] = this.chunks[i]
    const session = p.session!
    if (p.inFlight.size === 0) p.rate.start(Date.now())
    p.inFlight.add(i)
    p.inFlightBytes += size
    let at = this.inFlight.get(i)
    if (!at) { at = new Set(); this.inFlight.set(i, at) }
    at.add(p.holder.peer)
    const signal = this.signal
    void (async () => {
      await this.init.download.take(size, signal)
      // the timer must be cleared when the chunk arrives: while it is pending, the race's settled
      // promise (and with it the chunk's bytes) stays reachable, ~rate x 30 s of memory
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer for chunk ${hash.slice(0, 12)} in ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS)
        timer.unref()
      })
      try {
        return await Promise.race([session.get(hash), timeout])
      } finally {
        clearTimeout(timer)
      }
    })().then(async (parts) => {
      p.rate.add(size, Date.now()) // before settle, which ends the busy span if this was the last one
      this.settle(p, i)
      if (this.ended) return
      if (byteLength(parts) !== size || hashParts(parts) !== hash) {
        this.dropPeer(p, `sent chunk ${hash.slice(0, 12)} with the wrong content`)
        return
      }
      p.bytes += size
      p.chunks++
      this.init.transfer.bytesFromPeers += size
      if (this.done[i]) return // an endgame duplicate lost the race
      // done before the write: while it is written, no other peer may be asked for it; the freed
      // pipeline slot is refilled at once, so the next chunks arrive while this one is written
      this.done[i] = true
      this.writing += size
      this.pump()
      try {
        await this.init.keep(hash, parts)
      } finally { this.writing -= size }
      this.left--
      this.lastProgress = Date.now()
      this.init.transfer.bytesDone += size
      this.init.transfer.chunksDone++
      this.init.transfer.progressed()
      this.init.onChunk()
      if (this.left === 0) this.finish()
      else this.pump()
    }, (err: Error) => {
      this.settle(p, i)
      if (this.ended) return
      if (err instanceof NotHeldError) {
        if (p.has !== null) p.has.delete(i); else { p.has = new Set(this.chunks.map((_, k) => k)); p.has.delete(i) }
        this.orderDirty = true
        this.pump()
      } else this.failPeer(p, err.message)
    }).catch((err: Error) => {
      if (err instanceof NoSpaceError || (err as { code?: string }).code === 'ENOSPC') this.finish(err)
      else if (err instanceof CorruptChunkError) this.dropPeer(p, err.message)
      else this.finish(err)
    })
  }

  private settle (p: PeerState, i: number): void {
    if (p.inFlight.delete(i)) p.inFlightBytes -= this.chunks[i][1]
    if (p.inFlight.size === 0) p.rate.stop(Date.now())
    const at = this.inFlight.get(i)
    at?.delete(p.holder.peer)
    if (at?.size === 0) this.inFlight.delete(i)
  }

  private release (p: PeerState): void {
    for (const i of p.inFlight) this.settle(p, i)
    p.inFlight.clear()
    p.inFlightBytes = 0
    p.session?.close(new Error(p.reason ?? 'closed'))
    p.session = undefined
    this.orderDirty = true
  }

  private failPeer (p: PeerState, reason: string): void {
    if (p.state === 'dropped') return
    this.init.log.info('fetch %s: %s failed: %s', this.init.transfer.id, p.holder.name ?? p.holder.peer, reason)
    p.state = 'failed'
    p.reason = reason
    p.failures++
    p.retryAt = Date.now() + Math.min(1000 * 2 ** p.failures, 10_000)
    this.release(p)
    this.pump()
  }

  private dropPeer (p: PeerState, reason: string): void {
    this.init.log.warn('fetch %s: dropping %s: %s', this.init.transfer.id, p.holder.name ?? p.holder.peer, reason)
    p.state = 'dropped'
    p.reason = reason
    this.release(p)
    this.pump()
  }
}
