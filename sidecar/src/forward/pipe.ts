import type { Socket } from 'node:net'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Byte counters a pipe updates as data flows. */
export interface PipeCounters {
  /** Bytes from the stream written to the socket. */
  fromStream: number
  /** Bytes from the socket sent on the stream. */
  toStream: number
}

/**
 * Joins a TCP socket and a libp2p stream until both directions are done, with backpressure both
 * ways (a full socket pauses the stream, which stops yamux window updates so the remote stops;
 * a stream that needs drain pauses the socket) and half-close both ways (socket FIN -> stream
 * closeWrite; remote closeWrite -> socket end). Either side failing tears down the other.
 * Resolves when both are closed.
 */
export function pipeSocketStream (socket: Socket, stream: Stream, counters: PipeCounters): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false
    const finish = (err?: Error): void => {
      if (done) return
      done = true
      if (err) {
        if (stream.status === 'open') stream.abort(err)
        socket.destroy()
      } else {
        socket.end()
      }
      resolve()
    }

    // socket -> stream
    socket.on('data', (chunk: Buffer) => {
      counters.toStream += chunk.byteLength
      try {
        if (!stream.send(chunk)) {
          socket.pause()
          stream.onDrain().then(() => socket.resume(), (err: Error) => finish(err))
        }
      } catch (err) {
        finish(err as Error)
      }
    })
    socket.on('end', () => {
      // half-close: the service (or client) finished sending; the other direction may go on
      stream.close().catch((err: Error) => finish(err))
    })
    socket.on('error', (err) => finish(err))
    socket.on('close', () => {
      if (!done && stream.status === 'open') stream.abort(new Error('local socket closed'))
      finish()
    })

    // stream -> socket
    const onMessage = (evt: { data: Uint8Array | Uint8ArrayList }): void => {
      const buf = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      counters.fromStream += buf.byteLength
      if (!socket.write(buf)) {
        stream.pause()
        socket.once('drain', () => { if (stream.status === 'open') stream.resume() })
      }
    }
    stream.addEventListener('message', onMessage as never)
    stream.addEventListener('remoteCloseWrite', () => {
      if (!socket.destroyed) socket.end()
    })
    stream.addEventListener('close', (evt) => {
      const e = (evt as { error?: Error }).error
      if (e) finish(e)
      else if (socket.writableEnded || socket.destroyed) finish()
      else { socket.end(); finish() }
    })
  })
}
