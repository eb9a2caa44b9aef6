import { onePerMember, readOneMessage, sendOneMessage } from '../mesh/member-messages.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { ANNOUNCE_MAX_BYTES, ARTIFACTS_PROTOCOL, SETUP_TIMEOUT_MS } from './constants.ts'
import { parseAnnouncement, type AnnouncedArtifact } from './wire.ts'
import type { MeshLibp2p } from '../node/create-node.ts'
import type { Logger } from '../log/logger.ts'

export interface ArtifactAnnouncerInit {
  node: MeshLibp2p
  /** What this node holds, as announced. */
  mine(): AnnouncedArtifact[]
  onAnnouncement(peer: string, artifacts: AnnouncedArtifact[]): void
  log: Logger
}

/** Tells members which artifacts this node holds (on every new connection and every change). */
export class ArtifactAnnouncer {
  private readonly init: ArtifactAnnouncerInit
  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, connection: Connection }>): void => { void this.sendTo(evt.detail.connection) }
  private timer: NodeJS.Timeout | undefined

  constructor (init: ArtifactAnnouncerInit) {
    this.init = init
  }

  async start (): Promise<void> {
    await this.init.node.handle(ARTIFACTS_PROTOCOL, (stream, connection) => this.receive(stream, connection), { maxInboundStreams: 8 })
    this.init.node.addEventListener('peer:identify', this.onIdentify as never)
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.init.node.removeEventListener('peer:identify', this.onIdentify as never)
    await this.init.node.unhandle(ARTIFACTS_PROTOCOL).catch(() => {})
  }

  /** Announces soon (changes during a fetch come in bursts: one message per 250 ms at most). */
  changed (): void {
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => { this.timer = undefined; void this.broadcast() }, 250)
    this.timer.unref()
  }

  async broadcast (artifacts?: AnnouncedArtifact[]): Promise<void> {
    await Promise.all(onePerMember(this.init.node.getConnections()).map(c => this.sendTo(c, artifacts)))
  }

  private async sendTo (connection: Connection, artifacts = this.init.mine()): Promise<void> {
    try {
      await sendOneMessage(connection, ARTIFACTS_PROTOCOL, { v: 1, artifacts }, ANNOUNCE_MAX_BYTES, SETUP_TIMEOUT_MS)
    } catch (err) {
      this.init.log.debug('could not announce artifacts to %s: %s', connection.remotePeer.toString(), err)
    }
  }

  private async receive (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    try {
      const list = parseAnnouncement(await readOneMessage(stream, ANNOUNCE_MAX_BYTES, SETUP_TIMEOUT_MS))
      this.init.onAnnouncement(peer, list)
    } catch (err) {
      this.init.log.warn('bad artifacts announcement from %s: %s', peer, err)
      stream.abort(err as Error)
    }
  }
}
