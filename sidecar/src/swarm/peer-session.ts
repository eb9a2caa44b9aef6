import { framedStream } from '../node/framed-stream.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import type { MeshLibp2p } from '../node/create-node.ts'
import { encodeJson, parseChunkReply, decodeBits, BadSwarmMessageError, type ChunkReply } from './wire.ts'
import { CHUNKS_PROTOCOL, FRAME_MAX_BYTES, REQUEST_TIMEOUT_MS, SETUP_TIMEOUT_MS, STREAM_BUFFER_BYTES } from './constants.ts'
import { MANIFEST_MAX_BYTES } from '../store/constants.ts'

type Framed = ReturnType<typeof framedStream>

/**
 * The next frame of `lp`, which must arrive within `ms`; else it rejects with "`what` came in N s"
 * (the session then closes). Each further piece of a manifest (up to 1 MiB) gets as long as a chunk.
 */
async function readWithin (lp: Framed, ms: number, what: string): ReturnType<Framed['read']> {
  const signal = AbortSignal.timeout(ms)
  try {
    return await lp.read({ signal })
  } catch (err) {
    if (signal.aborted) throw new Error(`${what} came in ${ms / 1000} s`)
    throw err
  }
}

/** The peer does not have what was asked for. */
export class NotHeldError extends Error {
  readonly name = 'NotHeldError'
}

type Pending = { kind: 'get' | 'have' | 'manifest', resolve: (v: unknown) => void, reject: (e: Error) => void }

/**
 * One chunks stream to one member, with pipelined requests: requests made in one go (the same
 * synchronous run, e.g. a fetcher refilling its pipeline) are written together in one stream write,
 * and the replies, which come back in order, resolve them in order.
 */
export class PeerSession {
  readonly peer: string
  private stream: Stream | undefined
  private lp: Framed | undefined
  private readonly pending: Pending[] = []
  /** Requests not written yet (written together at the end of the current run). */
  private outbox: Uint8Array[] = []
  private closed: Error | undefined
  private reading = false

  constructor (peer: string) {
    this.peer = peer
  }

  get inFlight (): number { return this.pending.length }

  async open (node: MeshLibp2p, signal?: AbortSignal): Promise<void> {
    const s = AbortSignal.any([AbortSignal.timeout(SETUP_TIMEOUT_MS), ...(signal ? [signal] : [])])
    this.stream = await node.dialProtocol(peerIdFromString(this.peer), CHUNKS_PROTOCOL, { signal: s })
    this.lp = framedStream(this.stream, { maxDataLength: FRAME_MAX_BYTES, maxBufferSize: STREAM_BUFFER_BYTES })
  }

  close (err?: Error): void {
    if (this.closed) return
    this.closed = err ?? new Error('session closed')
    if (err) this.stream?.abort(err)
    else void this.stream?.close().catch(() => {})
    for (const p of this.pending.splice(0)) p.reject(this.closed)
  }

  private request<T> (kind: Pending['kind'], msg: object): Promise<T> {
    if (this.closed || !this.lp) return Promise.reject(this.closed ?? new Error('session not open'))
    const p = new Promise<T>((resolve, reject) => this.pending.push({ kind, resolve: resolve as (v: unknown) => void, reject }))
    if (this.outbox.push(encodeJson(msg)) === 1) queueMicrotask(() => this.flush())
    if (!this.reading) void this.readLoop()
    return p
  }

  private flush (): void {
    const frames = this.outbox
    this.outbox = []
    if (this.closed || frames.length === 0) return
    this.lp!.writeV(frames).catch((err) => this.close(err as Error))
  }

  private async readLoop (): Promise<void> {
    this.reading = true
    const lp = this.lp!
    try {
      while (this.pending.length > 0 && !this.closed) {
        const p = this.pending[0]
        // a manifest's answer must start within SETUP_TIMEOUT_MS (a chunk's wait is bounded by the fetcher)
        const reply: ChunkReply = parseChunkReply((p.kind === 'manifest' ? await readWithin(lp, SETUP_TIMEOUT_MS, 'no answer to the manifest request') : await lp.read()).subarray())
        if (!reply.ok) {
          this.pending.shift()
          p.reject(new NotHeldError(reply.message))
          continue
        }
        if (p.kind === 'get') {
          const data = await lp.read()
          if (data.byteLength !== reply.size) throw new BadSwarmMessageError(`chunk of ${data.byteLength} bytes announced as ${reply.size}`)
          this.pending.shift()
          // the frame's parts as they came (slices of the decrypted yamux frames): not joined into one
          // buffer, which would copy every chunk once more
          p.resolve([...data])
        } else if (p.kind === 'manifest') {
          const size = reply.size ?? -1
          if (size < 0 || size > MANIFEST_MAX_BYTES) throw new BadSwarmMessageError(`manifest of ${size} bytes`)
          const parts: Uint8Array[] = []
          let got = 0
          while (got < size) {
            const f = (await readWithin(lp, REQUEST_TIMEOUT_MS, 'no further part of the manifest')).subarray()
            parts.push(f)
            got += f.byteLength
          }
          if (got !== size) throw new BadSwarmMessageError('manifest longer than announced')
          this.pending.shift()
          p.resolve(Buffer.concat(parts))
        } else {
          this.pending.shift()
          p.resolve(reply)
        }
      }
    } catch (err) {
      this.close(err as Error)
    } finally {
      this.reading = false
    }
  }

  /** A chunk, as the parts it arrived in. */
  get (hash: string): Promise<Uint8Array[]> {
    return this.request('get', { v: 1, op: 'get', hash })
  }

  /** A manifest: its answer must start within SETUP_TIMEOUT_MS, and each further piece come within REQUEST_TIMEOUT_MS. */
  manifest (id: string): Promise<Buffer> {
    return this.request('manifest', { v: 1, op: 'manifest', id })
  }

  /** Which of the manifest's `n` distinct chunks the peer has (`null`: all). */
  async have (id: string, n: number): Promise<boolean[] | null> {
    const r = await this.request<ChunkReply>('have', { v: 1, op: 'have', id })
    if (!r.ok) throw new NotHeldError(r.message)
    return r.all ? null : decodeBits(r.bits ?? '', n)
  }
}
