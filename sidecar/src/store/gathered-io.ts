import { byteLength, readAllAt, writeAllAt } from './fs-calls.ts'
import { WRITE_BATCH_BYTES, WRITE_BATCH_PARTS } from './constants.ts'

interface Waiting { offset: number, parts: readonly Uint8Array[], bytes: number, resolve: () => void, reject: (err: unknown) => void }

/** One vectored positional call: moves `parts` at `position`; returns the bytes moved (fewer only at the end of a file, for reads). */
type VectorOp = (fd: number, parts: Uint8Array[], position: number) => Promise<number>

/**
 * Positional reads or writes on one file, gathered: one call is in flight at a time, and the ones
 * asked for meanwhile (or in the same event-loop turn) go out together, each run of adjacent ones as
 * one preadv/pwritev of at most WRITE_BATCH_BYTES and WRITE_BATCH_PARTS buffers. A fetch writes
 * chunks of about 128 KiB mostly in file order, and a server reads a peer's requested chunks mostly
 * in pack order; one call per chunk cost a trip through libuv's thread pool each (on the 2-vCPU bench
 * VM about 3 s of the fetcher's CPU per GiB fetched, a third of it).
 */
export class GatheredIo {
  private readonly fd: () => number | Promise<number>
  private readonly op: VectorOp
  private waiting: Waiting[] = []
  private busy = false
  private scheduled = false

  /** `fd` is asked for when the first call goes out (a rejected open fails the calls with its error). */
  private constructor (fd: () => number | Promise<number>, op: VectorOp) {
    this.fd = fd
    this.op = op
  }

  static reads (fd: () => number | Promise<number>): GatheredIo {
    return new GatheredIo(fd, readAllAt)
  }

  static writes (fd: () => number | Promise<number>): GatheredIo {
    return new GatheredIo(fd, writeAllAt)
  }

  /** Nothing queued or in flight. */
  get idle (): boolean {
    return !this.busy && !this.scheduled && this.waiting.length === 0
  }

  /**
   * Fills (reads) or writes every byte of `parts` at `offset`; a read past the end of the file rejects
   * with code ESHORT. The buffers must not be used elsewhere until the promise settles.
   */
  run (offset: number, parts: readonly Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ offset, parts, bytes: byteLength(parts), resolve, reject })
      if (this.busy || this.scheduled) return
      this.scheduled = true
      setImmediate(() => { this.scheduled = false; void this.drain() })
    })
  }

  /** Runs what is waiting, run of adjacent calls by run, until nothing is left. */
  private async drain (): Promise<void> {
    this.busy = true
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.sort((a, b) => a.offset - b.offset)
        this.waiting = []
        for (const run of adjacentRuns(batch)) {
          const start = run[0].offset
          try {
            const moved = await this.op(await this.fd(), run.flatMap(w => w.parts), start)
            for (const w of run) {
              if (w.offset + w.bytes <= start + moved) w.resolve()
              else w.reject(Object.assign(new Error(`the file ends before byte ${w.offset + w.bytes} (at ${start + moved})`), { code: 'ESHORT' }))
            }
          } catch (err) {
            for (const w of run) w.reject(err)
          }
        }
      }
    } finally {
      this.busy = false
    }
  }
}

/** Calls sorted by offset, cut into runs that each make one contiguous call within the batch limits. */
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
