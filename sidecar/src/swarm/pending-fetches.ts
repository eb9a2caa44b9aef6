import { isAbsolute } from 'node:path'
import { readJsonFile, writeJsonFileAtomic } from '../state/json-file.ts'
import type { Logger } from '../log/logger.ts'

/** A fetch that was running when the sidecar stopped: what `artifacts.fetch` needs to start it again. */
export interface PendingFetch {
  artifact: string
  out: string
  pin: boolean
  maxBytesPerSec: number | null
  /** When it was first started (ISO 8601); pending fetches are given up PENDING_FETCH_MAX_AGE_MS later. */
  since: string
}

/** How long an interrupted fetch is kept for restarting (its holders may be offline for a while). */
export const PENDING_FETCH_MAX_AGE_MS = 24 * 60 * 60 * 1000

const HEX64 = /^[0-9a-f]{64}$/

function valid (x: unknown): x is PendingFetch {
  const f = x as PendingFetch
  return typeof f === 'object' && f !== null && typeof f.artifact === 'string' && HEX64.test(f.artifact) &&
    typeof f.out === 'string' && isAbsolute(f.out) &&
    typeof f.pin === 'boolean' && (f.maxBytesPerSec === null || (Number.isSafeInteger(f.maxBytesPerSec) && f.maxBytesPerSec > 0)) &&
    typeof f.since === 'string' && Number.isFinite(Date.parse(f.since))
}

/**
 * The fetches under way, kept in `fetches.json` in the store so that a sidecar that stops or is killed
 * in the middle of one starts it again when it next runs (the chunks it already has are not fetched
 * again). A fetch leaves the file when it ends while the sidecar runs (done, failed or cancelled).
 */
export class PendingFetches {
  private readonly path: string
  private readonly log: Logger
  private fetches: PendingFetch[]

  constructor (path: string, log: Logger) {
    this.path = path
    this.log = log
    let raw: unknown
    try { raw = readJsonFile(path) } catch (err) {
      log.warn('ignoring %s: %s', path, (err as Error).message)
    }
    const list = (raw as { fetches?: unknown } | undefined)?.fetches
    this.fetches = Array.isArray(list) ? list.filter(valid) : []
    if (Array.isArray(list) && list.length !== this.fetches.length) log.warn('%s: ignored %d malformed entries', path, list.length - this.fetches.length)
  }

  list (): PendingFetch[] {
    return [...this.fetches]
  }

  /** Records a fetch into `f.out` (replacing one into the same directory). */
  add (f: PendingFetch): void {
    this.fetches = [...this.fetches.filter(x => x.out !== f.out), f]
    this.save()
  }

  /** Forgets them all (the node left the mesh they belong to). */
  clear (): void {
    if (this.fetches.length === 0) return
    this.fetches = []
    this.save()
  }

  remove (out: string): void {
    const n = this.fetches.length
    this.fetches = this.fetches.filter(x => x.out !== out)
    if (this.fetches.length !== n) this.save()
  }

  private save (): void {
    try {
      writeJsonFileAtomic(this.path, { v: 1, fetches: this.fetches })
    } catch (err) {
      // losing this only loses the automatic restart; the fetch itself goes on
      this.log.warn('could not save %s: %s', this.path, (err as Error).message)
    }
  }
}
