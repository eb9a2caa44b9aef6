import { randomBytes } from 'node:crypto'
import { mkdirSync, chmodSync, unlinkSync } from 'node:fs'
import type { PrivateKey } from '@libp2p/interface'
import { statePaths, type StatePaths } from '../state/paths.ts'
import { acquireLock } from '../state/lock.ts'
import { writeJsonFileAtomic } from '../state/json-file.ts'
import { loadOrCreateIdentity } from '../mesh/identity.ts'
import { loadMesh, saveMesh } from '../mesh/mesh-store.ts'
import { newMeshRecord, publicMesh, type MeshRecord } from '../mesh/mesh-key.ts'
import { MeshNode } from '../mesh/mesh-node.ts'
import { ApiServer } from '../api/server.ts'
import { chooseEndpoints, type Endpoints } from '../api/endpoints.ts'
import { nodeMethods } from '../api/methods/node.ts'
import { peerMethods } from '../api/methods/peers.ts'
import { meshMethods } from '../api/methods/mesh.ts'
import { serviceMethods } from '../api/methods/services.ts'
import { Forwarding } from '../forward/forwarding.ts'
import { artifactMethods } from '../api/methods/artifacts.ts'
import { ArtifactSync } from '../swarm/artifact-sync.ts'
import { DEFAULT_STORE_CAP_BYTES } from '../store/constants.ts'
import { ApiError } from '../api/errors.ts'
import { loadConfig, saveConfig, type NodeConfig } from './config.ts'
import type { ApiInfo } from './api-info.ts'
import type { Events, NodeStatusResult, StoreConfigureParams, StoreStatus } from '../gen/protocol-types.ts'
import { DEFAULT_LISTEN_PORT } from '../node/constants.ts'
import { PROTOCOL_VERSION, VERSION } from '../version.ts'
import type { Logger } from '../log/logger.ts'

export interface SidecarOptions {
  stateDir: string
  /** Display name to set (persists). */
  name?: string
  /** Listen multiaddrs; default /ip4/0.0.0.0/tcp/<last port or 4455>. */
  listen?: string[]
  bootstrap: string[]
  mdns: boolean
  log: Logger
}

function tcpPort (addr: string): number | undefined {
  const m = /\/tcp\/(\d+)/.exec(addr)
  return m ? Number(m[1]) : undefined
}

/**
 * The sidecar process: single-instance lock, identity, config, the mesh node (restarted on a mesh
 * switch), and the API server. Everything the API methods call goes through here.
 */
export class Sidecar {
  readonly paths: StatePaths
  private readonly opts: SidecarOptions
  private readonly log: Logger
  private readonly startedAt = Date.now()
  private config!: NodeConfig
  /** Service sharing and forwards; follows the current mesh node. */
  forwarding!: Forwarding
  /** The artifact store and multi-peer fetching; follows the current mesh node. */
  artifacts!: ArtifactSync
  private key!: PrivateKey
  private node: MeshNode | undefined
  private listen: string[] = []
  private switching: Promise<unknown> = Promise.resolve()
  private api: ApiServer | undefined
  private endpoints: Endpoints | undefined
  private releaseLock: (() => void) | undefined
  private stopping: Promise<void> | undefined
  private resolveClosed!: () => void
  /** Resolves once the sidecar has shut down. */
  readonly closed = new Promise<void>((resolve) => { this.resolveClosed = resolve })
  info: ApiInfo | undefined

  private constructor (opts: SidecarOptions) {
    this.opts = opts
    this.log = opts.log
    this.paths = statePaths(opts.stateDir)
  }

  static async start (opts: SidecarOptions): Promise<Sidecar> {
    const s = new Sidecar(opts)
    try {
      await s.boot()
    } catch (err) {
      await s.shutdown(`start failed: ${(err as Error).message}`)
      throw err
    }
    return s
  }

  private async boot (): Promise<void> {
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 })
    if (process.platform !== 'win32') chmodSync(this.paths.dir, 0o700)
    this.releaseLock = acquireLock(this.paths.lock, this.paths.dir)
    this.config = loadConfig(this.paths.config)
    if (this.opts.name !== undefined) this.config.name = this.opts.name
    this.key = await loadOrCreateIdentity(this.paths.identity, this.log)
    let mesh = loadMesh(this.paths.mesh)
    if (mesh === undefined) {
      mesh = newMeshRecord(`${this.config.name}'s mesh`.slice(0, 64), true)
      saveMesh(this.paths.mesh, mesh)
      this.log.info('created personal mesh %s (%s)', mesh.name, mesh.id)
    }
    this.listen = this.opts.listen ?? [`/ip4/0.0.0.0/tcp/${this.config.listenPort ?? DEFAULT_LISTEN_PORT}`]
    this.forwarding = new Forwarding(this.paths.shares, () => this.config.name, (e, d) => this.publish(e, d), this.log.scope('forward'))
    this.artifacts = new ArtifactSync({
      storeDir: this.paths.store,
      capBytes: this.config.storeCapBytes ?? DEFAULT_STORE_CAP_BYTES,
      maxUploadBytesPerSec: this.config.maxUploadBytesPerSec ?? null,
      publish: (e, d) => this.publish(e, d),
      log: this.log.scope('artifacts')
    })
    this.node = await this.startNode(mesh, this.opts.bootstrap)
    if (this.opts.listen === undefined) this.config.listenPort = tcpPort(this.node.listenAddrs()[0] ?? '')
    saveConfig(this.paths.config, this.config)

    const token = randomBytes(32).toString('base64url')
    this.api = new ApiServer(token, { ...nodeMethods(this), ...peerMethods(this), ...meshMethods(this), ...serviceMethods(this), ...artifactMethods(this) }, this.log.scope('api'))
    this.endpoints = chooseEndpoints(this.paths.dir)
    await this.api.start(this.endpoints)
    this.info = {
      v: 1,
      pid: process.pid,
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      router: this.api.routerEndpoint,
      events: this.api.eventsEndpoint,
      token,
      peerId: this.node.peerId,
      stateDir: this.paths.dir,
      startedAt: new Date(this.startedAt).toISOString()
    }
    writeJsonFileAtomic(this.paths.api, this.info, 0o600)
    this.log.info('API ready at %s (events %s)', this.info.router, this.info.events)
  }

  /** Starts a node for `mesh`; a busy default port falls back to a random one. */
  private async startNode (mesh: MeshRecord, bootstrap: string[]): Promise<MeshNode> {
    const make = (listen: string[]): MeshNode => new MeshNode({
      privateKey: this.key,
      mesh,
      peerBookPath: this.paths.peers(mesh.id),
      listen,
      mdns: this.opts.mdns,
      bootstrap,
      displayName: () => this.config.name,
      publish: (e, d) => this.publish(e, d),
      log: this.log.scope('mesh')
    })
    let n = make(this.listen)
    try {
      await n.start()
    } catch (err) {
      if (!/EADDRINUSE|address already in use/i.test(String((err as Error).message ?? err))) throw err
      const fallback = this.listen.map(a => a.replace(/\/tcp\/\d+/, '/tcp/0'))
      this.log.warn('listen port busy (%s); using a random port', (err as Error).message)
      n = make(fallback)
      await n.start()
    }
    await this.forwarding.attach(n)
    await this.artifacts.attach(n)
    // keep the bound port for later mesh switches so peers' stored addresses stay valid
    const bound = n.listenAddrs().map(tcpPort).find(p => p !== undefined)
    if (bound !== undefined) this.listen = this.listen.map(a => a.replace(/\/tcp\/0(?=\/|$)/, `/tcp/${bound}`))
    return n
  }

  private publish<E extends keyof Events> (event: E, data: Events[E]): void {
    this.api?.publish(event, data)
  }

  get displayName (): string {
    return this.config.name
  }

  /** The current mesh node, once no mesh switch is under way. */
  async mesh (): Promise<MeshNode> {
    await this.switching
    if (this.node === undefined || this.stopping) throw new ApiError('NOT_READY', 'the mesh node is not running (the sidecar is stopping)')
    return this.node
  }

  /** Stops the node of the current mesh and starts one for `mesh` (saved as the current mesh). */
  async switchMesh (mesh: MeshRecord, opts: { forgetOld?: boolean } = {}): Promise<void> {
    const run = async (): Promise<void> => {
      const old = this.node
      this.node = undefined
      if (old) {
        // members of the mesh being left should not keep listing this node's services
        if (opts.forgetOld) await this.forwarding.withdraw()
        await this.forwarding.detach('the node left the mesh')
        await this.artifacts.detach()
        await old.stop()
        if (opts.forgetOld) old.book.destroy()
      }
      saveMesh(this.paths.mesh, mesh)
      this.node = await this.startNode(mesh, [])
      this.log.info('switched to mesh %s (%s)', mesh.name, mesh.id)
      this.publish('mesh.changed', { mesh: publicMesh(mesh) })
    }
    const p = this.switching.then(run)
    this.switching = p.catch(() => {})
    await p
  }

  setName (name: string): void {
    this.config.name = name
    saveConfig(this.paths.config, this.config)
    this.node?.announce()
    this.publish('node.name', { name })
  }

  /** Applies new store limits at once and keeps them in config.json. */
  async configureStore (p: StoreConfigureParams): Promise<StoreStatus> {
    const r = await this.artifacts.configure(p)
    if (p.capBytes !== undefined) this.config.storeCapBytes = p.capBytes
    if (p.maxUploadBytesPerSec === 0) delete this.config.maxUploadBytesPerSec
    else if (p.maxUploadBytesPerSec !== undefined) this.config.maxUploadBytesPerSec = p.maxUploadBytesPerSec
    saveConfig(this.paths.config, this.config)
    return r
  }

  status (): NodeStatusResult {
    const n = this.node
    if (n === undefined) throw new ApiError('NOT_READY', 'a mesh switch is under way; retry in a moment')
    return {
      peerId: n.peerId,
      name: this.config.name,
      mesh: publicMesh(n.mesh),
      listenAddrs: n.listenAddrs(),
      observedAddrs: n.observedAddrs(),
      version: VERSION,
      protocolVersion: 1,
      uptimeMs: Date.now() - this.startedAt,
      pid: process.pid,
      stateDir: this.paths.dir,
      mdns: this.opts.mdns,
      peersConnected: n.connectedCount()
    }
  }

  /** Stops everything and releases the state dir. Safe to call more than once. */
  shutdown (reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('shutting down: %s', reason)
      // only what this process created: a start that failed on the lock must not touch the running sidecar's files
      if (this.info !== undefined) {
        try { unlinkSync(this.paths.api) } catch { /* already gone */ }
      }
      await this.api?.stop().catch((err) => this.log.warn('API stop: %s', err))
      await this.switching
      await this.forwarding?.detach('the sidecar is stopping').catch((err) => this.log.warn('forwarding stop: %s', err))
      await this.artifacts?.detach({ stopping: true }).catch((err) => this.log.warn('artifacts stop: %s', err))
      await this.node?.stop().catch((err) => this.log.warn('node stop: %s', err))
      for (const f of this.endpoints?.files ?? []) {
        try { unlinkSync(f) } catch { /* gone */ }
      }
      this.releaseLock?.()
      this.resolveClosed()
    })()
    return this.stopping
  }
}
