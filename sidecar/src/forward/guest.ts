import { createServer, type Server, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { framedStream } from '../node/framed-stream.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Forward } from '../gen/protocol-types.ts'
import type { MeshLibp2p } from '../node/create-node.ts'
import { FORWARD_HEADER_MAX_BYTES, FORWARD_PROTOCOL, FORWARD_SETUP_TIMEOUT_MS, MAX_FORWARD_STREAMS } from './constants.ts'
import { encodeJson, parseForwardReply } from './header.ts'
import { pipeSocketStream, type PipeCounters } from './pipe.ts'
import type { Logger } from '../log/logger.ts'

export type FailureCode = 'FORBIDDEN' | 'NOT_FOUND' | 'TARGET_UNREACHABLE' | 'PEER_UNREACHABLE' | 'PROTOCOL_ERROR'

export interface GuestForwardInit {
  node: () => MeshLibp2p
  peer: string
  peerName: () => string | null
  service: string
  address: string
  log: Logger
  onFailure(fwd: GuestForward, code: FailureCode, reason: string): void
  /** Connection count or traffic changed; called at most once per UPDATE_INTERVAL_MS. */
  onChange(fwd: GuestForward): void
}

/** Least time between two forward.updated events of one forward. */
const UPDATE_INTERVAL_MS = 1000

/** Listens on a port; each accepted connection goes over its own stream to the host's service. */
export class GuestForward {
  readonly id = randomBytes(6).toString('hex')
  readonly openedAt = new Date().toISOString()
  private readonly init: GuestForwardInit
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly counters: PipeCounters = { fromStream: 0, toStream: 0 }
  private total = 0
  private updateTimer: NodeJS.Timeout | undefined
  port = 0

  constructor (init: GuestForwardInit) {
    this.init = init
  }

  get peer (): string { return this.init.peer }
  get service (): string { return this.init.service }

  /** Binds `port` (0: any free port). Rejects with the listen error (e.g. EADDRINUSE). */
  listen (port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (sock) => { void this.carry(sock) })
      server.maxConnections = MAX_FORWARD_STREAMS
      server.once('error', reject)
      server.listen({ host: this.init.address, port, exclusive: true }, () => {
        server.off('error', reject)
        server.on('error', (err) => this.init.log.error('forward %s listener: %s', this.id, err))
        this.server = server
        this.port = (server.address() as { port: number }).port
        resolve(this.port)
      })
    })
  }

  /** Coalesces change notifications to one per UPDATE_INTERVAL_MS. */
  private changed (): void {
    if (this.updateTimer !== undefined || this.server === undefined) return
    this.updateTimer = setTimeout(() => { this.updateTimer = undefined; if (this.server?.listening) this.init.onChange(this) }, UPDATE_INTERVAL_MS)
    this.updateTimer.unref()
  }

  async close (): Promise<void> {
    clearTimeout(this.updateTimer)
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server ? this.server.close(() => resolve()) : resolve())
  }

  toJSON (): Forward {
    return {
      id: this.id,
      peer: this.init.peer,
      peerName: this.init.peerName(),
      service: this.init.service,
      localAddress: this.init.address,
      localPort: this.port,
      connections: this.sockets.size,
      totalConnections: this.total,
      bytesIn: this.counters.fromStream,
      bytesOut: this.counters.toStream,
      openedAt: this.openedAt
    }
  }

  private async carry (sock: Socket): Promise<void> {
    this.total++
    this.sockets.add(sock)
    this.changed()
    sock.once('close', () => this.changed())
    sock.on('error', () => {}) // reported through the pipe or the failure below
    const signal = AbortSignal.timeout(FORWARD_SETUP_TIMEOUT_MS)
    const fail = (code: FailureCode, reason: string): void => {
      this.init.log.warn('forward %s to %s/%s: %s', this.id, this.init.peer, this.init.service, reason)
      this.init.onFailure(this, code, reason)
      sock.destroy()
      this.sockets.delete(sock)
    }
    let stream
    try {
      stream = await this.init.node().dialProtocol(peerIdFromString(this.init.peer), FORWARD_PROTOCOL, { signal })
    } catch (err) {
      return fail('PEER_UNREACHABLE', `host unreachable: ${(err as Error).message}`)
    }
    const lp = framedStream(stream, { maxDataLength: FORWARD_HEADER_MAX_BYTES })
    try {
      await lp.write(encodeJson({ v: 1, service: this.init.service }), { signal })
      const reply = parseForwardReply((await lp.read({ signal })).subarray())
      if (!reply.ok) {
        stream.abort(new Error(reply.message))
        return fail(reply.code, `refused by host: ${reply.message}`)
      }
    } catch (err) {
      stream.abort(err as Error)
      return fail('PROTOCOL_ERROR', `forward setup failed: ${(err as Error).message}`)
    }
    if (sock.destroyed) { stream.abort(new Error('client went away during setup')); this.sockets.delete(sock); return }
    const piped = pipeSocketStream(sock, lp.unwrap(), this.counters)
    sock.resume()
    const err = await piped
    if (err) this.init.log.debug('forward %s connection ended with an error: %s', this.id, err)
    this.sockets.delete(sock)
  }
}
