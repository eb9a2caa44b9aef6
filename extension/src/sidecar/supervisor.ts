// Keeps one sidecar available to the extension: attaches to the one running for the state dir
// (api.json), or spawns one and reads its handshake; restarts it with backoff when it dies.
// No VS Code here (the extension passes a Log and reacts to state changes), so the e2e suite and
// tests can drive it too.
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readApiInfo, NotRunningError, type ApiInfo } from '../../../sidecar/src/daemon/api-info.ts'
import type { EventMessage, MeshlinkClient, EventStream } from '../../../sidecar/src/client/client.ts'
import { Backoff, type BackoffOptions } from './backoff.ts'
import { SidecarDownError, SidecarGaveUpError } from './errors.ts'
import { spawnSidecar, type Log, type StartPlan } from './spawn.ts'

export type { Log, StartPlan }

export type SupervisorState =
  | { phase: 'stopped' }
  | { phase: 'starting' }
  | { phase: 'running', info: ApiInfo, owned: boolean }
  | { phase: 'restarting', delayMs: number, attempt: number, reason: Error }
  | { phase: 'failed', error: Error }

export interface SupervisorOptions {
  /** Resolves settings into a plan; errors other than start failures (missing file, old Node) are final. */
  plan(signal: AbortSignal): Promise<StartPlan>
  log: Log
  backoff?: BackoffOptions
  /** @default 20000 */
  handshakeTimeoutMs?: number
  /** How often an attached (not spawned) sidecar's pid is checked. @default 2000 */
  pidPollMs?: number
}

interface Connection {
  info: ApiInfo
  client: MeshlinkClient
  events: EventStream
  owned: boolean
  child: ChildProcess | undefined
  closing: boolean
  timer: NodeJS.Timeout | undefined
}

/** See died(). */
const ATTACHED_RESTART_DELAY_MS = 2500
/** Errors a restart cannot fix: only the person can (settings, VS Code version). */
const PERMANENT = new Set(['SidecarNotFoundError', 'NodeTooOldError'])

type Listener<T> = (value: T) => void

/** Lazy: loading the zeromq addon costs tens of ms and must not delay activation. */
const loadClient = (): Promise<typeof import('../../../sidecar/src/client/client.ts')> => import('../../../sidecar/src/client/client.ts')

function isAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
})

export class SidecarSupervisor {
  private readonly opts: SupervisorOptions
  private readonly log: Log
  private readonly backoff: Backoff
  private stateValue: SupervisorState = { phase: 'stopped' }
  private conn: Connection | undefined
  /** Bumped by restart/stop/dispose: an older start attempt that finishes late is discarded. */
  private generation = 0
  private attemptAbort: AbortController | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private disposed = false
  private readonly stateListeners = new Set<Listener<SupervisorState>>()
  private readonly eventListeners = new Set<Listener<EventMessage>>()
  private readonly crashListeners = new Set<Listener<{ reason: string, delayMs: number | undefined }>>()
  /** Sidecar processes spawned so far (for the restart test and the logs). */
  spawnCount = 0

  constructor (opts: SupervisorOptions) {
    this.opts = opts
    this.log = opts.log
    this.backoff = new Backoff(opts.backoff)
  }

  get state (): SupervisorState { return this.stateValue }
  /** The API client while running. */
  get client (): MeshlinkClient | undefined { return this.stateValue.phase === 'running' ? this.conn?.client : undefined }
  /** The sidecar's pid while running. */
  get pid (): number | undefined { return this.stateValue.phase === 'running' ? this.stateValue.info.pid : undefined }

  onDidChangeState (fn: Listener<SupervisorState>): { dispose(): void } { this.stateListeners.add(fn); return { dispose: () => { this.stateListeners.delete(fn) } } }
  onEvent (fn: Listener<EventMessage>): { dispose(): void } { this.eventListeners.add(fn); return { dispose: () => { this.eventListeners.delete(fn) } } }
  /** The sidecar died on its own; delayMs is when it restarts (undefined: it will not). */
  onCrash (fn: Listener<{ reason: string, delayMs: number | undefined }>): { dispose(): void } { this.crashListeners.add(fn); return { dispose: () => { this.crashListeners.delete(fn) } } }

  private setState (s: SupervisorState): void {
    this.stateValue = s
    for (const fn of [...this.stateListeners]) {
      try { fn(s) } catch (err) { this.log.error(`state listener failed: ${(err as Error).message}`) }
    }
  }

  /** Starts (or attaches) unless already running or starting. Resolves when the attempt settles. */
  async start (): Promise<void> {
    if (this.disposed) return
    const p = this.stateValue.phase
    if (p === 'running' || p === 'starting') return
    this.backoff.reset()
    await this.begin()
  }

  /** Stops the sidecar (even one this window only attached to) and starts a fresh one. */
  async restart (): Promise<void> {
    if (this.disposed) return
    this.cancelPending()
    const conn = this.conn
    this.conn = undefined
    if (conn) await this.shutdown(conn)
    this.backoff.reset()
    await this.begin()
  }

  /** Stops the sidecar and stays stopped. */
  async stop (): Promise<void> {
    this.cancelPending()
    const conn = this.conn
    this.conn = undefined
    if (conn) await this.shutdown(conn)
    this.setState({ phase: 'stopped' })
  }

  /** Resolves with the client once running; rejects with SidecarDownError when it fails or time runs out. */
  whenRunning (timeoutMs: number): Promise<MeshlinkClient> {
    const now = this.client
    if (now) return Promise.resolve(now)
    if (this.stateValue.phase === 'failed' || this.stateValue.phase === 'stopped') return Promise.reject(this.downError())
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { sub.dispose(); reject(new SidecarDownError(`it did not start within ${Math.round(timeoutMs / 1000)} s`)) }, timeoutMs)
      const sub = this.onDidChangeState((s) => {
        if (s.phase === 'running' && this.conn) { clearTimeout(t); sub.dispose(); resolve(this.conn.client) } else if (s.phase === 'failed' || s.phase === 'stopped') { clearTimeout(t); sub.dispose(); reject(this.downError()) }
      })
    })
  }

  /** Why commands cannot run now. */
  downError (): SidecarDownError {
    const s = this.stateValue
    if (s.phase === 'failed') return new SidecarDownError(s.error.message, s.error)
    if (s.phase === 'restarting') return new SidecarDownError(`it stopped (${s.reason.message}) and restarts in ${Math.ceil(s.delayMs / 1000)} s`, s.reason)
    if (s.phase === 'starting') return new SidecarDownError('it is still starting')
    return new SidecarDownError('it is stopped')
  }

  dispose (): void {
    this.disposed = true
    this.cancelPending()
    const conn = this.conn
    this.conn = undefined
    if (conn) {
      conn.closing = true
      this.closeConnection(conn)
      // our child would exit anyway once it sees this process gone (--parent-pid); say it now
      if (conn.child && conn.child.exitCode === null) conn.child.kill('SIGTERM')
    }
    this.stateListeners.clear()
    this.eventListeners.clear()
    this.crashListeners.clear()
  }

  private cancelPending (): void {
    this.generation++
    this.attemptAbort?.abort(new Error('superseded'))
    this.attemptAbort = undefined
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = undefined
  }

  private async begin (): Promise<void> {
    const gen = ++this.generation
    const abort = new AbortController()
    this.attemptAbort = abort
    this.setState({ phase: 'starting' })
    try {
      const plan = await this.opts.plan(abort.signal)
      const conn = (await this.tryAttach(plan.stateDir, abort.signal)) ??
        (await this.attachToStarting(plan.stateDir, abort.signal)) ??
        (await this.spawnAndConnect(plan, abort.signal))
      if (gen !== this.generation || this.disposed) {
        conn.closing = true
        this.closeConnection(conn)
        return
      }
      this.adopt(conn)
    } catch (err) {
      if (gen !== this.generation || this.disposed) return
      const e = err as Error
      if (PERMANENT.has(e.name)) {
        this.log.error(`MeshLink sidecar cannot start: ${e.message}`)
        this.setState({ phase: 'failed', error: e })
        return
      }
      this.log.warn(`MeshLink sidecar start failed: ${e.message}`)
      this.scheduleRestart(e)
    } finally {
      if (this.attemptAbort === abort) this.attemptAbort = undefined
    }
  }

  private scheduleRestart (reason: Error, minDelayMs = 0): void {
    const next = this.backoff.next(Date.now())
    const delay = next === undefined ? undefined : Math.max(next, minDelayMs)
    if (delay === undefined) {
      const e = new SidecarGaveUpError(this.backoff.attempts, reason)
      this.log.error(e.message)
      this.setState({ phase: 'failed', error: e })
      return
    }
    this.log.info(`restarting the sidecar in ${delay} ms (attempt ${this.backoff.attempts})`)
    this.setState({ phase: 'restarting', delayMs: delay, attempt: this.backoff.attempts, reason })
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined
      void this.begin()
    }, delay)
  }

  /** A live sidecar named by api.json that answers node.status, or undefined. */
  private async tryAttach (stateDir: string, signal: AbortSignal): Promise<Connection | undefined> {
    let info: ApiInfo
    try {
      info = readApiInfo(join(stateDir, 'api.json'))
    } catch (err) {
      if (err instanceof NotRunningError) return undefined
      throw err
    }
    const conn = await this.connect(info, false, undefined)
    try {
      await conn.client.call('node.status', {}, { timeoutMs: 3000 })
      if (signal.aborted) throw signal.reason
      this.log.info(`attached to the sidecar already running for ${stateDir} (pid ${info.pid})`)
      return conn
    } catch (err) {
      this.closeConnection(conn)
      if (signal.aborted) throw signal.reason
      this.log.warn(`api.json names pid ${info.pid}, but it does not answer (${(err as Error).message}); starting a new sidecar`)
      return undefined
    }
  }

  /**
   * Another process holds the state dir's lock but has no api.json yet: it is starting (another
   * window won the race). Wait for it rather than spawning a sidecar that would only exit with 4.
   */
  private async attachToStarting (stateDir: string, signal: AbortSignal): Promise<Connection | undefined> {
    let pid: number
    try {
      pid = Number.parseInt(readFileSync(join(stateDir, 'sidecar.lock'), 'utf8').trim(), 10)
    } catch {
      return undefined
    }
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined
    this.log.info(`a sidecar (pid ${pid}) is starting for ${stateDir}; waiting for it`)
    const info = await this.waitForApiInfo(stateDir, signal)
    return await this.connect(info, false, undefined)
  }

  private async spawnAndConnect (plan: StartPlan, signal: AbortSignal): Promise<Connection> {
    this.spawnCount++
    const outcome = await spawnSidecar(plan, this.log, signal, this.opts.handshakeTimeoutMs ?? 20_000)
    if (outcome.kind === 'already-running') {
      // another window (or `meshlink up`) won the race for this state dir: use that one
      this.log.info('a sidecar already runs for this state dir; attaching to it')
      const info = await this.waitForApiInfo(plan.stateDir, signal)
      return await this.connect(info, false, undefined)
    }
    this.log.info(`sidecar ready: pid ${outcome.info.pid}, peer ${outcome.info.peerId}, API ${outcome.info.router}`)
    return await this.connect(outcome.info, true, outcome.child)
  }

  /** After exit code 4 the winner may still be writing api.json: poll briefly. */
  private async waitForApiInfo (stateDir: string, signal: AbortSignal): Promise<ApiInfo> {
    let last: Error | undefined
    for (let i = 0; i < 100 && !signal.aborted; i++) {
      try { return readApiInfo(join(stateDir, 'api.json')) } catch (err) { last = err as Error }
      await sleep(150, signal)
    }
    throw last ?? new Error('aborted')
  }

  private async connect (info: ApiInfo, owned: boolean, child: ChildProcess | undefined): Promise<Connection> {
    const { MeshlinkClient, EventStream } = await loadClient()
    return { info, client: new MeshlinkClient(info, { timeoutMs: 15_000 }), events: new EventStream(info), owned, child, closing: false, timer: undefined }
  }

  private adopt (conn: Connection): void {
    this.conn = conn
    this.backoff.started(Date.now())
    void (async () => {
      try {
        for await (const ev of conn.events) {
          for (const fn of [...this.eventListeners]) {
            try { fn(ev) } catch (err) { this.log.error(`event listener failed: ${(err as Error).message}`) }
          }
        }
      } catch (err) {
        if (!conn.closing) this.log.warn(`event stream ended: ${(err as Error).message}`)
      }
    })()
    if (conn.child) {
      const child = conn.child
      if (child.exitCode !== null || child.signalCode !== null) { queueMicrotask(() => this.died(conn, `exited (${child.signalCode ?? `code ${child.exitCode}`})`)); return }
      child.once('exit', (code, sig) => this.died(conn, `exited (${sig ?? `code ${code}`})`))
    } else {
      conn.timer = setInterval(() => { if (!isAlive(conn.info.pid)) this.died(conn, `pid ${conn.info.pid} is gone`) }, this.opts.pidPollMs ?? 2000)
    }
    this.setState({ phase: 'running', info: conn.info, owned: conn.owned })
  }

  private died (conn: Connection, reason: string): void {
    if (conn.closing || conn !== this.conn) return
    conn.closing = true
    this.closeConnection(conn)
    this.conn = undefined
    this.log.warn(`the MeshLink sidecar ${reason}`)
    // A sidecar we only attached to is usually restarted by the window that spawned it: give that
    // one a head start and attach to its new sidecar, rather than race it for the state dir.
    this.scheduleRestart(new Error(`the sidecar ${reason}`), conn.owned ? 0 : ATTACHED_RESTART_DELAY_MS)
    const s = this.stateValue
    for (const fn of [...this.crashListeners]) fn({ reason, delayMs: s.phase === 'restarting' ? s.delayMs : undefined })
  }

  private closeConnection (conn: Connection): void {
    if (conn.timer) clearInterval(conn.timer)
    conn.timer = undefined
    try { conn.events.close() } catch { /* already closed */ }
    try { conn.client.close() } catch { /* already closed */ }
  }

  /** Asks the sidecar to stop, waits for it (bounded), kills our own child if it lingers. */
  private async shutdown (conn: Connection): Promise<void> {
    conn.closing = true
    try {
      await conn.client.call('node.shutdown', {}, { timeoutMs: 3000 })
    } catch (err) {
      this.log.warn(`node.shutdown: ${(err as Error).message}`)
    }
    this.closeConnection(conn)
    const deadline = Date.now() + 8000
    while (Date.now() < deadline && isAlive(conn.info.pid)) await sleep(100)
    if (isAlive(conn.info.pid)) {
      this.log.warn(`the sidecar (pid ${conn.info.pid}) did not stop in time; killing it`)
      if (conn.child) conn.child.kill('SIGKILL')
      else try { process.kill(conn.info.pid, 'SIGKILL') } catch { /* gone meanwhile */ }
      const until = Date.now() + 3000
      while (Date.now() < until && isAlive(conn.info.pid)) await sleep(100)
    }
  }
}
