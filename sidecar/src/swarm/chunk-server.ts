import { lpStream } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { uniqueChunks } from '../store/manifest.ts'
import { CorruptChunkError } from '../store/errors.ts'
import { encodeBits, encodeJson, parseChunkRequest, type ChunkReply } from './wire.ts'
import { FRAME_MAX_BYTES, TEST_FAULT } from './constants.ts'
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

/**
 * Serves manifests, have-bitfields and chunks to members, one request at a time per stream in the
 * order they came (the client pipelines; backpressure: the next request is read only once the reply
 * was handed to the stream and the stream drained).
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
    const { store } = this.init
    const lp = lpStream(stream, { maxDataLength: 4096 })
    this.open.add(stream)
    try {
      for (;;) {
        let raw
        try { raw = await lp.read() } catch { break } // the client closed or reset the stream
        const req = parseChunkRequest(raw.subarray())
        const no = (code: 'NOT_FOUND' | 'PROTOCOL_ERROR', message: string): Promise<void> => lp.write(encodeJson({ v: 1, ok: false, code, message } satisfies ChunkReply))
        if (req.op === 'get') {
          if (!store.chunks.has(req.hash)) { await no('NOT_FOUND', 'no such chunk here'); continue }
          let bytes: Buffer
          try { bytes = await store.chunks.read(req.hash) } catch (err) {
            if (!(err instanceof CorruptChunkError)) this.init.log.warn('reading chunk %s: %s', req.hash, err)
            await no('NOT_FOUND', 'no such chunk here')
            continue
          }
          await this.init.upload.take(bytes.byteLength)
          if (TEST_FAULT === 'corrupt-chunks') { bytes = Buffer.from(bytes); bytes[bytes.length >> 1] ^= 0xff }
          await lp.writeV([encodeJson({ v: 1, ok: true, size: bytes.byteLength } satisfies ChunkReply), bytes])
          this.init.onServed(peer, bytes.byteLength)
        } else {
          const rec = store.get(req.id)
          if (rec === undefined) { await no('NOT_FOUND', 'no such artifact here'); continue }
          store.touch(req.id)
          if (req.op === 'manifest') {
            const m = store.manifestBytes(req.id)
            await lp.write(encodeJson({ v: 1, ok: true, size: m.byteLength } satisfies ChunkReply))
            for (let at = 0; at < m.byteLength; at += FRAME_MAX_BYTES - 1024) await lp.write(m.subarray(at, at + FRAME_MAX_BYTES - 1024))
          } else if (rec.complete) {
            await lp.write(encodeJson({ v: 1, ok: true, all: true } satisfies ChunkReply))
          } else {
            const bits = encodeBits(uniqueChunks(store.manifest(req.id)).map(([h]) => store.chunks.has(h)))
            await lp.write(encodeJson({ v: 1, ok: true, bits } satisfies ChunkReply))
          }
        }
      }
      await stream.close().catch(() => {})
    } catch (err) {
      this.init.log.debug('chunks stream from %s ended: %s', peer, err)
      stream.abort(err as Error)
    } finally {
      this.open.delete(stream)
    }
  }
}
