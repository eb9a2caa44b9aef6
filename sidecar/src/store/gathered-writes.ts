import { writeAllAt } from './fs-calls.ts'
import { WRITE_BATCH_BYTES, WRITE_BATCH_PARTS } from './constants.ts'

interface Waiting { offset: number, parts: readonly Uint8Array[], bytes: number, resolve: () => void, reject: (err: unknown) => void }

/**
 * Positional writes to one open file, gathered: one pwritev is in flight at a time, and the writes
 * asked for meanwhile (or in the same event-loop turn) go out together, each run of adjacent ones as one
 * pwritev of at most WRITE_BATCH_BYTES and WRITE_BATCH_PARTS buffers. A fetch writes chunks of about
 * 128 KiB mostly in file order; one call per chunk cost a trip through libuv's thread pool each (on the
 * 2-vCPU bench VM about 3 s of CPU per GiB fetched, a third of the fetcher's).
 */
export class GatheredWrites {
  private readonly fd: Promise<number>
  private waiting: Waiting[] = []
  private writing = false
  private scheduled = false

  constructor (fd: Promise<number>) {
    this.fd = fd
    fd.catch(() => {}) // an open that fails is reported by the writes, not as an unhandled rejection
  }

  /** Nothing queued or being written. */
  get idle (): boolean {
    return !this.writing && !this.scheduled && this.waiting.length === 0
  }

  /** Writes every byte of `parts` at `offset`; the buffers must not change until the promise settles. */
  write (offset: number, parts: readonly Uint8Array[]): Promise<void> {
    let bytes = 0
    for (const p of parts) bytes += p.byteLength
    return new Promise((resolve, reject) => {
      this.waiting.push({ offset, parts, bytes, resolve, reject })
      if (this.writing || this.scheduled) return
      this.scheduled = true
      setImmediate(() => { this.scheduled = false; void this.drain() })
    })
  }

  /** Writes what is waiting, run by run, until nothing is left. */
  private async drain (): Promise<void> {
    this.writing = true
    try {
      const fd = await this.fd.catch((err: unknown) => err as Error)
      while (this.waiting.length > 0) {
        const batch = this.waiting.sort((a, b) => a.offset - b.offset)
        this.waiting = []
        for (const run of adjacentRuns(batch)) {
          try {
            if (fd instanceof Error) throw fd
            await writeAllAt(fd, run.flatMap(w => w.parts), run[0].offset)
            for (const w of run) w.resolve()
          } catch (err) {
            for (const w of run) w.reject(err)
          }
        }
      }
    } finally {
      this.writing = false
    }
  }
}

/** Writes sorted by offset, cut into runs that each make one contiguous pwritev within the batch limits. */
function adjacentRuns (sorted: Waiting[]): Waiting[][] {
  const runs: Waiting[][] = []
  let run: Waiting[] = []
  let end = -1
  let bytes = 0
  let parts = 0
  for (const w of sorted) {
    if (run.length > 0 && (w.offset !== end || bytes + w.bytes > WRITE_BATCH_BYTES || parts + w.parts.length > WRITE_BATCH_PARTS)) {
      runs.push(run)
      run = []
      bytes = 0
      parts = 0
    }
    run.push(w)
    end = w.offset + w.bytes
    bytes += w.bytes
    parts += w.parts.length
  }
  if (run.length > 0) runs.push(run)
  return runs
}
