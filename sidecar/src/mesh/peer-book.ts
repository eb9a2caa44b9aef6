import { unlinkSync } from 'node:fs'
import { readJsonFile, writeJsonFileAtomic } from '../state/json-file.ts'
import type { Logger } from '../log/logger.ts'

/** What this node remembers of a member across restarts. */
export interface PeerRecord {
  id: string
  name: string | null
  /** Last known addresses (multiaddr strings, no /p2p/ suffix), newest first. */
  addrs: string[]
  /** ISO time a connection was last open; null if never. */
  lastSeen: string | null
}

/** Most addresses kept per peer. */
export const MAX_ADDRS_PER_PEER = 16
const SAVE_DELAY_MS = 250

/**
 * The members of one mesh this node knows, persisted as JSON (0600) so a restarted node can
 * dial them without mDNS. Writes are coalesced; `flush()` writes at once.
 */
export class PeerBook {
  private readonly peers = new Map<string, PeerRecord>()
  private saveTimer: NodeJS.Timeout | undefined
  private readonly path: string
  private readonly log: Logger

  constructor (path: string, log: Logger) {
    this.path = path
    this.log = log
    let data: unknown
    try {
      data = readJsonFile(path)
    } catch (err) {
      log.warn('ignoring unreadable peer book: %s', err)
    }
    const list = (data as { peers?: unknown } | undefined)?.peers
    if (Array.isArray(list)) {
      for (const p of list) {
        if (p && typeof p.id === 'string' && Array.isArray(p.addrs)) {
          this.peers.set(p.id, {
            id: p.id,
            name: typeof p.name === 'string' ? p.name : null,
            addrs: p.addrs.filter((a: unknown) => typeof a === 'string').slice(0, MAX_ADDRS_PER_PEER),
            lastSeen: typeof p.lastSeen === 'string' ? p.lastSeen : null
          })
        }
      }
    }
  }

  list (): PeerRecord[] {
    return [...this.peers.values()]
  }

  get (id: string): PeerRecord | undefined {
    return this.peers.get(id)
  }

  has (id: string): boolean {
    return this.peers.has(id)
  }

  /** Adds or updates a member; returns the record and whether anything visible changed. */
  upsert (id: string, patch: { name?: string | null, addrs?: string[], lastSeen?: string | null }): { record: PeerRecord, changed: boolean } {
    const cur = this.peers.get(id) ?? { id, name: null, addrs: [], lastSeen: null }
    const next: PeerRecord = { ...cur }
    if (patch.name !== undefined && patch.name !== null) next.name = patch.name
    if (patch.addrs !== undefined) next.addrs = [...new Set([...patch.addrs, ...cur.addrs])].slice(0, MAX_ADDRS_PER_PEER)
    if (patch.lastSeen !== undefined && patch.lastSeen !== null) next.lastSeen = patch.lastSeen
    const changed = !this.peers.has(id) || next.name !== cur.name || next.addrs.join() !== cur.addrs.join()
    this.peers.set(id, next)
    this.scheduleSave()
    return { record: next, changed }
  }

  private scheduleSave (): void {
    if (this.saveTimer !== undefined) return
    this.saveTimer = setTimeout(() => { this.saveTimer = undefined; this.flush() }, SAVE_DELAY_MS)
    this.saveTimer.unref()
  }

  flush (): void {
    if (this.saveTimer !== undefined) { clearTimeout(this.saveTimer); this.saveTimer = undefined }
    try {
      writeJsonFileAtomic(this.path, { v: 1, peers: this.list() })
    } catch (err) {
      this.log.error('could not save the peer book %s: %s', this.path, err)
    }
  }

  /** Forgets every member and removes the file (used when leaving a mesh). */
  destroy (): void {
    if (this.saveTimer !== undefined) { clearTimeout(this.saveTimer); this.saveTimer = undefined }
    this.peers.clear()
    try { unlinkSync(this.path) } catch { /* never saved */ }
  }
}
