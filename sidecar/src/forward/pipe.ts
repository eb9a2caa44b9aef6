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

/** Pause the local socket when this much waits in the stream's send queue; resume at or below LOW. */
const STREAM_QUEUE_HIGH = 1024 * 1024
const STREAM_QUEUE_LOW = 256 * 1024
/** While the socket is paused, how often the stream's queue is looked at besides its events. */
const PAUSED_POLL_MS = 25

/**
 * Joins a TCP socket and a libp2p stream until both directions are done, with backpressure both
 * ways and half-close both ways (socket FIN -> stream closeWrite; the remote's FIN, once its data
 * is delivered -> socket end). Either side failing tears down the other. Resolves when done, with the error that ended it, if any.
 *
 * Backpressure socket -> stream: the stream's own send-queue length is the signal. send()'s
 * return value and stream.onDrain() of @libp2p/utils 7 are not reliable enough (onDrain keeps its
 * first, already resolved promise, so after one drain it stops waiting; a 'drain' dispatched
 * inside send() is missed), and a missed signal means unbounded memory or a stalled connection.
 * Backpressure stream -> socket: a full socket pauses the stream, which stops yamux window
 * updates, so the remote stops reading its own socket.
 */
export function pipeSocketStream (socket: Socket, stream: Stream, counters: PipeCounters): Promise<Error | undefined> {
  return new Promise<Error | undefined>((resolve) => {
    let done = false
    let socketPaused = false
    let poll: NodeJS.Timeout | undefined

    const finish = (err?: Error): void => {
      if (done) return
      done = true
      clearInterval(poll)
      if (err) {
        if (stream.status === 'open') stream.abort(err)
        socket.destroy()
      } else {
        socket.end()
      }
      resolve(err)
    }

    // socket -> stream
    const maybeResumeSocket = (): void => {
      if (!socketPaused || stream.writeBufferLength > STREAM_QUEUE_LOW) return
      socketPaused = false
      clearInterval(poll)
      stream.removeEventListener('drain', maybeResumeSocket)
      stream.removeEventListener('idle', maybeResumeSocket)
      if (!done) socket.resume()
    }
    socket.on('data', (chunk: Buffer) => {
      counters.toStream += chunk.byteLength
      try {
        stream.send(chunk)
      } catch (err) {
        finish(err as Error)
        return
      }
      if (!socketPaused && stream.writeBufferLength > STREAM_QUEUE_HIGH) {
        socketPaused = true
        socket.pause()
        stream.addEventListener('drain', maybeResumeSocket)
        stream.addEventListener('idle', maybeResumeSocket)
        poll = setInterval(maybeResumeSocket, PAUSED_POLL_MS)
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
    let streamPaused = false
    let resuming = false
    const pauseStream = (): void => {
      streamPaused = true
      stream.pause()
      socket.once('drain', onSocketDrain)
    }
    const onSocketDrain = (): void => {
      streamPaused = false
      if (stream.status !== 'open' || stream.readStatus !== 'paused') return
      // resume() first emits what was buffered, then re-opens the yamux window, even if a listener
      // paused the stream meanwhile: so don't pause inside it (the buffered data, at most about one
      // window, goes to the socket), and pause after it if the socket is full again
      resuming = true
      try { stream.resume() } finally { resuming = false }
      if (socket.writableNeedDrain && stream.status === 'open') pauseStream()
    }
    // The remote's FIN becomes the socket's FIN once everything it sent before was delivered. Its
    // events are not enough on their own: the FIN may have arrived (and 'end' fired) while a
    // length-prefixed reader still held the stream, before these listeners existed; and it can
    // arrive while earlier data still waits in a paused read buffer. So look at the state itself.
    let socketEnded = false
    const maybeEndSocket = (): void => {
      if (socketEnded || socket.destroyed || stream.readBufferLength > 0) return
      if (!stream.readableEnded && stream.remoteWriteStatus !== 'closed') return
      socketEnded = true
      socket.end()
    }
    const onMessage = (evt: { data: Uint8Array | Uint8ArrayList }): void => {
      const buf = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      counters.fromStream += buf.byteLength
      if (!socket.write(buf) && !streamPaused && !resuming) pauseStream()
      maybeEndSocket()
    }
    stream.addEventListener('message', onMessage as never)
    stream.addEventListener('end', maybeEndSocket)
    stream.addEventListener('remoteCloseWrite', maybeEndSocket)
    // data an unwrapped reader pushed back is dispatched on the next tick; look after it
    setImmediate(maybeEndSocket)
    stream.addEventListener('close', (evt) => {
      const e = (evt as { error?: Error }).error
      if (e) finish(e)
      else if (socket.writableEnded || socket.destroyed) finish()
      else { socket.end(); finish() }
    })
  })
}
