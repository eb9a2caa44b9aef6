import { Router, Publisher } from 'zeromq'
import type { Events } from '../gen/protocol-types.ts'
import { ApiError } from './errors.ts'
import { Dispatcher, type Handlers } from './dispatch.ts'
import { HARD_MAX_MESSAGE_BYTES, MAX_FRAMES, MAX_IN_FLIGHT } from './limits.ts'
import type { Endpoints } from './endpoints.ts'
import type { Logger } from '../log/logger.ts'

/**
 * The control-protocol server: a ROUTER socket for requests and a PUB socket for events.
 * It carries control only; bulk bytes travel over libp2p streams and local sockets.
 */
export class ApiServer {
  private readonly router = new Router({ maxMessageSize: HARD_MAX_MESSAGE_BYTES, linger: 0, receiveHighWaterMark: 1000, sendHighWaterMark: 1000 })
  private readonly pub = new Publisher({ linger: 0, sendHighWaterMark: 10_000 })
  private readonly dispatcher: Dispatcher
  private readonly log: Logger
  private sending: Promise<void> = Promise.resolve()
  private publishing: Promise<void> = Promise.resolve()
  private inFlight = 0
  private slotFree: (() => void) | undefined
  private seq = 0
  private loop: Promise<void> | undefined
  /** Bound endpoints (tcp ports resolved). */
  routerEndpoint = ''
  eventsEndpoint = ''

  constructor (token: string, handlers: Handlers, log: Logger) {
    this.dispatcher = new Dispatcher(token, handlers, log)
    this.log = log
  }

  async start (ep: Endpoints): Promise<void> {
    await this.router.bind(ep.router)
    await this.pub.bind(ep.events)
    this.routerEndpoint = this.router.lastEndpoint ?? ep.router
    this.eventsEndpoint = this.pub.lastEndpoint ?? ep.events
    this.loop = this.serve()
  }

  async stop (): Promise<void> {
    this.router.close()
    this.pub.close()
    await this.loop?.catch(() => {})
  }

  /** Publishes an event: frames [topic, JSON envelope]. Subscribers filter by topic prefix. */
  publish<E extends keyof Events> (event: E, data: Events[E]): void {
    if (this.pub.closed) return
    const frame = JSON.stringify({ v: 1, event, seq: ++this.seq, time: new Date().toISOString(), data })
    // zeromq allows one send at a time per socket: chain them
    this.publishing = this.publishing.then(() => this.pub.send([event, frame])).catch((err) => {
      if (!this.pub.closed) this.log.warn('could not publish %s: %s', event, err)
    })
  }

  private async serve (): Promise<void> {
    try {
      for await (const frames of this.router) {
        if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => { this.slotFree = resolve })
        this.inFlight++
        void this.handle(frames).finally(() => {
          this.inFlight--
          const f = this.slotFree
          this.slotFree = undefined
          f?.()
        })
      }
    } catch (err) {
      if (!this.router.closed) this.log.error('API receive loop ended: %s', err)
    }
  }

  private async handle (frames: Buffer[]): Promise<void> {
    const [routingId, ...rest] = frames
    // DEALER sends [payload]; REQ sends [empty delimiter, payload]: answer in the same shape
    const delimited = rest.length === 2 && rest[0].length === 0
    const envelope = delimited ? [routingId, Buffer.alloc(0)] : [routingId]
    let reply: object
    if (rest.length === 0 || rest.length > MAX_FRAMES || (rest.length === 2 && !delimited)) {
      reply = { v: 1, id: null, error: new ApiError('INVALID_REQUEST', `a request is one frame holding a JSON object (after an optional empty delimiter); got ${rest.length} frames`).toJSON() }
    } else {
      reply = await this.dispatcher.dispatch(rest[rest.length - 1])
    }
    const out = [...envelope, JSON.stringify(reply)]
    this.sending = this.sending.then(() => this.router.send(out)).catch((err) => {
      if (!this.router.closed) this.log.debug('could not reply (client gone?): %s', err)
    })
    await this.sending
  }
}
