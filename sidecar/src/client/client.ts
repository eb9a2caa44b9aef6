import { Dealer, Subscriber } from 'zeromq'
import type { ApiError as ApiErrorBody, ErrorCode, EventName, Events, MethodName, Methods } from '../gen/protocol-types.ts'
import type { ApiInfo } from '../daemon/api-info.ts'

/** A protocol error returned by the sidecar; switch on `code`, never on `message`. */
export class MeshlinkError extends Error {
  readonly name = 'MeshlinkError'
  readonly code: ErrorCode
  readonly data: Record<string, unknown> | undefined
  constructor (body: ApiErrorBody) {
    super(body.message)
    this.code = body.code
    this.data = body.data as Record<string, unknown> | undefined
  }
}

/** The sidecar did not answer in time (it may be stopped or busy). */
export class ClientTimeoutError extends Error {
  readonly name = 'ClientTimeoutError'
}

export interface ClientOptions {
  /** Per-request timeout. @default 35000 (a little over the sidecar's own method timeout) */
  timeoutMs?: number
}

export interface EventMessage<E extends EventName = EventName> {
  v: 1
  event: E
  seq: number
  time: string
  data: Events[E]
}

/**
 * A typed client of the control protocol over a ZeroMQ DEALER socket. Requests may overlap;
 * replies are matched by id. Used by the CLI, the extension and the tests alike.
 */
export class MeshlinkClient {
  private readonly dealer: Dealer
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  private nextId = 1
  private sending: Promise<void> = Promise.resolve()
  private readonly timeoutMs: number
  private readonly loop: Promise<void>
  readonly info: ApiInfo

  constructor (info: ApiInfo, opts: ClientOptions = {}) {
    this.info = info
    this.timeoutMs = opts.timeoutMs ?? 35_000
    this.dealer = new Dealer({ linger: 0, reconnectInterval: 100 })
    this.dealer.connect(info.router)
    this.loop = this.receive()
  }

  private async receive (): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        let msg: { id?: unknown, result?: unknown, error?: ApiErrorBody }
        try { msg = JSON.parse(frames[frames.length - 1].toString('utf8')) } catch { continue }
        const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined
        if (!p) continue
        this.pending.delete(msg.id as number)
        clearTimeout(p.timer)
        if (msg.error) p.reject(new MeshlinkError(msg.error))
        else p.resolve(msg.result)
      }
    } catch (err) {
      if (!this.dealer.closed) this.failAll(err as Error)
    }
  }

  private failAll (err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(err)
      this.pending.delete(id)
    }
  }

  /** Calls a method; rejects with MeshlinkError (protocol error) or ClientTimeoutError. */
  call<M extends MethodName> (method: M, params: Methods[M]['params'] = {} as Methods[M]['params'], opts: { timeoutMs?: number } = {}): Promise<Methods[M]['result']> {
    return this.callRaw(method, params, opts) as Promise<Methods[M]['result']>
  }

  /** Like call() but untyped: for tests and tools that send arbitrary methods/params. */
  callRaw (method: string, params: unknown, opts: { timeoutMs?: number, token?: string } = {}): Promise<unknown> {
    const id = this.nextId++
    const body = JSON.stringify({ v: 1, id, token: opts.token ?? this.info.token, method, params })
    return new Promise((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.timeoutMs
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ClientTimeoutError(`the sidecar did not answer ${method} within ${ms} ms`))
      }, ms)
      this.pending.set(id, { resolve, reject, timer })
      this.sending = this.sending.then(() => this.dealer.send(body)).catch((err) => {
        clearTimeout(timer)
        this.pending.delete(id)
        reject(err as Error)
      })
    })
  }

  /** Sends raw frames (tests of bad input); the reply, if any, is not matched. */
  async sendFrames (frames: Array<string | Buffer>): Promise<void> {
    this.sending = this.sending.then(() => this.dealer.send(frames))
    await this.sending
  }

  close (): void {
    this.failAll(new Error('client closed'))
    this.dealer.close()
    void this.loop
  }
}

/**
 * Subscribes to sidecar events (all, or those whose topic starts with one of `topics`).
 * Iterate the returned object; call close() to stop.
 */
export class EventStream implements AsyncIterable<EventMessage> {
  private readonly sub = new Subscriber({ linger: 0 })
  constructor (info: ApiInfo, topics: string[] = []) {
    this.sub.connect(info.events)
    if (topics.length === 0) this.sub.subscribe()
    else for (const t of topics) this.sub.subscribe(t)
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<EventMessage> {
    try {
      for await (const [, body] of this.sub) {
        try { yield JSON.parse(body.toString('utf8')) as EventMessage } catch { /* skip a malformed frame */ }
      }
    } catch (err) {
      if (!this.sub.closed) throw err
    }
  }

  close (): void {
    this.sub.close()
  }
}
