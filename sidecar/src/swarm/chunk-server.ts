import { framedStream } from '../node/framed-stream.ts'
import type { Connection, Stream } from '@libp2p/interface'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { uniqueChunks } from '../store/manifest.ts'
import { CorruptChunkError } from '../store/errors.ts'
import { encodeBits, encodeJson, parseChunkRequest, type ChunkReply, type ChunkRequest } from './wire.ts'
import { FRAME_MAX_BYTES, SERVER_READ_AHEAD_BYTES, SERVER_READ_AHEAD_REPLIES, SERVER_WRITE_BATCH_BYTES, TEST_FAULTS, TEST_MANIFEST_STALL_MS } from './constants.ts'
import type { RateLimiter } from './rate-limit.ts'
import type { Logger } from '../log/logger.ts'

export interface ChunkServerInit {
  store: ArtifactStore
  /** Cap on served bytes (shared by every stream). */
  upload: RateLimiter
  /** Bytes served, for stats. */
  onServed(peer: string, bytes: number): void
  log: Logger
}

/** One reply: its frames, and the chunk bytes it carries (for the upload cap and stats). */
interface Reply { frames: Uint8Array[], chunkBytes: number }

/** A reply being prepared, the chunk bytes it will hold (counted against the read-ahead), and the reply once it is ready. */
interface Queued { reply: Promise<Reply>, bytes: number, ready?: Reply }

/**
 * Serves manifests, have-bitfields and chunks to members, answering each stream's requests in the
 * order they came (the client pipelines). The chunks of the next requests are read while the current
 * reply is being sent (SERVER_READ_AHEAD_BYTES), so a disk read never leaves the connection idle;
 * backpressure: no more requests are read while that much waits, and each write goes out only once
 * the previous one was handed to the stream and the stream drained. Replies that are ready together
 * are written together (SERVER_WRITE_BATCH_BYTES).
 */
export class ChunkServer {
  private readonly init: ChunkServerInit
  private readonly open = new Set<Stream>()

  constructor (init: ChunkServerInit) {
    this.init = init
  }

  closeAll (): void {
    for (const s of this.open) s.abort(new Error('the node is leaving the mesh'))
  }

  async handle (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const lp = framedStream(stream, { maxDataLength: 4096 })
    const queue: Queued[] = []
    let queuedBytes = 0
    let inputDone = false
    let writerDone = false
    let wakeWriter: (() => void) | undefined
    let wakeReader: (() => void) | undefined
    const readRequests = async (): Promise<void> => {
      try {
        for (;;) {
          while ((queuedBytes >= SERVER_READ_AHEAD_BYTES || queue.length >= SERVER_READ_AHEAD_REPLIES) && !writerDone) await new Promise<void>(resolve => { wakeReader = resolve })
          if (writerDone) break
          let raw
          try { raw = await lp.read() } catch { break } // the client closed or reset the stream
          let reply: Promise<Reply>
          let bytes = 0
          try {
            const req = parseChunkRequest(raw.subarray())
            if (req.op === 'get') bytes = this.init.store.chunks.size(req.hash) ?? 0
            reply = this.reply(req)
          } catch (err) { reply = Promise.reject(err) } // ends the stream when its turn comes
          const q: Queued = { reply, bytes }
          reply.then((r) => { q.ready = r }, () => {}) // awaited in order below; a rejection waiting in the queue is not unhandled
          queue.push(q)
          queuedBytes += bytes
          wakeWriter?.()
        }
      } finally {
        inputDone = true
        wakeWriter?.()
      }
    }
    this.open.add(stream)
    const reading = readRequests()
    try {
      for (;;) {
        const next = queue.shift()
        if (next === undefined) {
          if (inputDone) break
          await new Promise<void>(resolve => { wakeWriter = resolve })
          continue
        }
        const r = await next.reply
        queuedBytes -= next.bytes
        // the replies after it that are ready go out in the same write: one yamux frame, so one
        // window update back from the fetcher (it sends one per frame received)
        const frames = [...r.frames]
        let chunkBytes = r.chunkBytes
        while (queue[0]?.ready !== undefined && chunkBytes + queue[0].bytes <= SERVER_WRITE_BATCH_BYTES) {
          const q = queue.shift()!
          queuedBytes -= q.bytes
          frames.push(...q.ready!.frames)
          chunkBytes += q.ready!.chunkBytes
        }
        wakeReader?.()
        if (chunkBytes > 0) await this.init.upload.take(chunkBytes)
        await lp.writeV(frames)
        if (chunkBytes > 0) this.init.onServed(peer, chunkBytes)
      }
      await stream.close().catch(() => {})
    } catch (err) {
      this.init.log.debug('chunks stream from %s ended: %s', peer, err)
      stream.abort(err as Error)
    } finally {
      this.open.delete(stream)
      writerDone = true
      wakeReader?.()
      await reading
    }
  }

  /** Answers one request (reading the chunk for a `get`). */
  private async reply (req: ChunkRequest): Promise<Reply> {
    const { store } = this.init
    const json = (o: ChunkReply, chunkBytes = 0, more: Uint8Array[] = []): Reply => ({ frames: [encodeJson(o), ...more], chunkBytes })
    const no = (message: string): Reply => json({ v: 1, ok: false, code: 'NOT_FOUND', message })
    if (req.op === 'get') {
      if (!store.chunks.has(req.hash)) return no('no such chunk here')
      let bytes: Buffer
      try { bytes = await store.chunks.read(req.hash) } catch (err) {
        if (!(err instanceof CorruptChunkError)) this.init.log.warn('reading chunk %s: %s', req.hash, err)
        return no('no such chunk here')
      }
      if (TEST_FAULTS.has('corrupt-chunks')) bytes[bytes.length >> 1] ^= 0xff
      return json({ v: 1, ok: true, size: bytes.byteLength }, bytes.byteLength, [bytes])
    }
    const rec = store.get(req.id)
    if (rec === undefined) return no('no such artifact here')
    store.touch(req.id)
    if (req.op === 'manifest') {
      if (TEST_FAULTS.has('stall-manifests')) await new Promise(resolve => setTimeout(resolve, TEST_MANIFEST_STALL_MS).unref())
      const m = store.manifestBytes(req.id)
      const pieces: Uint8Array[] = []
      for (let at = 0; at < m.byteLength; at += FRAME_MAX_BYTES - 1024) pieces.push(m.subarray(at, at + FRAME_MAX_BYTES - 1024))
      return json({ v: 1, ok: true, size: m.byteLength }, 0, pieces)
    }
    if (rec.complete) return json({ v: 1, ok: true, all: true })
    const bits = encodeBits(uniqueChunks(store.manifest(req.id)).map(([h]) => store.chunks.has(h)))
    return json({ v: 1, ok: true, bits })
  }
}
