import { connect, type Socket } from 'node:net'
import { framedStream } from '../node/framed-stream.ts'
import type { Connection, Stream } from '@libp2p/interface'
import { FORWARD_HEADER_MAX_BYTES, FORWARD_SETUP_TIMEOUT_MS } from './constants.ts'
import { encodeJson, parseForwardRequest, type ForwardReply, type RefusalCode } from './header.ts'
import { pipeSocketStream } from './pipe.ts'
import type { Share } from './share-store.ts'
import type { Logger } from '../log/logger.ts'

export interface HostInit {
  /** The share of that name, if any. */
  share(name: string): Share | undefined
  /** Called when a member's stream is refused (for the event and the log). */
  onRefused(service: string, peer: string, reason: string): void
  /** Called when a member's connection was accepted and is being carried. */
  onAccepted(service: string, peer: string): void
  log: Logger
}

/** Connects to the local target, or explains why not. */
function connectTarget (share: Share, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: share.host, port: share.port, noDelay: true, allowHalfOpen: true })
    const onAbort = (): void => { sock.destroy(); reject(new Error(`connecting to ${share.host}:${share.port} timed out`)) }
    signal.addEventListener('abort', onAbort, { once: true })
    sock.once('connect', () => { signal.removeEventListener('abort', onAbort); resolve(sock) })
    sock.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort)
      reject(new Error(`${share.host}:${share.port}: ${err.code === 'ECONNREFUSED' ? 'connection refused (is the service running?)' : err.message}`))
    })
  })
}

/**
 * The host side of forwarding: for every stream a member opens, check the service exists and the
 * member is allowed (every stream, every time), connect to the local target, answer, then pipe.
 */
export class ForwardHost {
  private readonly init: HostInit
  /** Carried connections, with the service and member each belongs to. */
  private readonly open = new Map<Socket, { service: string, peer: string }>()

  constructor (init: HostInit) {
    this.init = init
  }

  /** Ends every carried connection of a service (after unshare). */
  /** Ends carried connections of a service (all of them, or those of members no longer allowed). */
  closeService (name: string, stillAllowed: (peer: string) => boolean = () => false): void {
    for (const [sock, c] of this.open) if (c.service === name && !stillAllowed(c.peer)) sock.destroy()
  }

  closeAll (): void {
    for (const sock of this.open.keys()) sock.destroy()
  }

  async handle (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const signal = AbortSignal.timeout(FORWARD_SETUP_TIMEOUT_MS)
    const lp = framedStream(stream, { maxDataLength: FORWARD_HEADER_MAX_BYTES })
    const refuse = async (code: RefusalCode, message: string, service: string): Promise<void> => {
      this.init.log.warn('refused %s from %s: %s', service || '(no service)', peer, message)
      this.init.onRefused(service, peer, message)
      try {
        await lp.write(encodeJson({ v: 1, ok: false, code, message } satisfies ForwardReply), { signal })
        await stream.close({ signal })
      } catch {
        stream.abort(new Error(message))
      }
    }
    let service = ''
    try {
      const req = parseForwardRequest((await lp.read({ signal })).subarray())
      service = req.service
    } catch (err) {
      await refuse('PROTOCOL_ERROR', `bad forward request: ${(err as Error).message}`, service)
      return
    }
    const share = this.init.share(service)
    if (share === undefined) return refuse('NOT_FOUND', `no service "${service}" is shared here`, service)
    if (share.allow !== null && !share.allow.includes(peer)) return refuse('FORBIDDEN', `peer ${peer} is not allowed to use "${service}"`, service)
    let target: Socket
    try {
      target = await connectTarget(share, signal)
    } catch (err) {
      return refuse('TARGET_UNREACHABLE', (err as Error).message, service)
    }
    try {
      await lp.write(encodeJson({ v: 1, ok: true } satisfies ForwardReply), { signal })
    } catch (err) {
      target.destroy()
      stream.abort(err as Error)
      return
    }
    this.open.set(target, { service, peer })
    this.init.onAccepted(service, peer)
    const raw = lp.unwrap()
    const err = await pipeSocketStream(target, raw, { fromStream: 0, toStream: 0 })
    if (err) this.init.log.debug('connection of %s to %s ended with an error: %s', peer, service, err)
    this.open.delete(target)
  }
}
