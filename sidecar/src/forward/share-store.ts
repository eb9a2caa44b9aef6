import { readJsonFile, writeJsonFileAtomic } from '../state/json-file.ts'
import type { Logger } from '../log/logger.ts'

/** A service this node shares, as persisted in shares.json. */
export interface Share {
  name: string
  port: number
  /** Where the service listens locally. */
  host: string
  /** Allowed peer ids; null means every member. */
  allow: string[] | null
}

/** This node's shares; they persist across restarts until unshared. */
export class ShareStore {
  private readonly shares = new Map<string, Share>()
  private readonly path: string

  constructor (path: string, log: Logger) {
    this.path = path
    try {
      const o = readJsonFile(path) as { shares?: unknown } | undefined
      for (const s of Array.isArray(o?.shares) ? o.shares : []) {
        if (s && typeof s.name === 'string' && Number.isInteger(s.port) && typeof s.host === 'string') {
          this.shares.set(s.name, { name: s.name, port: s.port, host: s.host, allow: Array.isArray(s.allow) ? s.allow.filter((a: unknown) => typeof a === 'string') : null })
        }
      }
    } catch (err) {
      log.warn('ignoring unreadable %s: %s', path, err)
    }
  }

  list (): Share[] {
    return [...this.shares.values()]
  }

  get (name: string): Share | undefined {
    return this.shares.get(name)
  }

  set (share: Share): void {
    this.shares.set(share.name, share)
    this.save()
  }

  delete (name: string): Share | undefined {
    const s = this.shares.get(name)
    if (s) { this.shares.delete(name); this.save() }
    return s
  }

  private save (): void {
    writeJsonFileAtomic(this.path, { v: 1, shares: this.list() }, 0o600)
  }
}
