/**
 * How much of the time each link of a transfer sat (nearly) idle in the middle of the run, from its
 * sent-bytes counter sampled every 10 ms. Two tools with the same start and tail can differ here: on
 * the namespace LAN a seeder's link waits whenever its sender has nothing queued (the downloader asked
 * too little, or a process was not scheduled in time), and the whole transfer slows by that share.
 */

/** Slots this long; the kernel's counters move in whole packets, so shorter ones are mostly noise. */
const SLOT_MS = 10
/** Only the middle counts: from this long after the start ... */
const SKIP_START_MS = 500
/** ... until this long before the end (the start and the tail are measured by rx-phases). */
const SKIP_END_MS = 1000
/** A slot is idle when the link carried less than this share of its rate in it. */
const IDLE_SHARE = 0.5

/**
 * Samples each `sent()` (cumulative bytes; NaN once the link is gone) until the returned function is
 * called; that gives, per link, the % of middle slots in which it carried under IDLE_SHARE of its
 * `bytesPerSec` (undefined when the run was too short or the link was gone from the start).
 */
export function watchLinkIdle (links: Array<{ sent: () => number, bytesPerSec: number }>): () => Array<number | undefined> {
  const t0 = performance.now()
  const rows: Array<[number, number[]]> = []
  const sample = (): void => { rows.push([performance.now() - t0, links.map(l => l.sent())]) }
  sample()
  const timer = setInterval(sample, SLOT_MS)
  return () => {
    clearInterval(timer)
    sample()
    const end = rows[rows.length - 1][0]
    return links.map((l, k) => {
      let idle = 0; let total = 0
      for (let i = 1; i < rows.length; i++) {
        const [ta, a] = rows[i - 1]; const [tb, b] = rows[i]
        if (ta < SKIP_START_MS || tb > end - SKIP_END_MS) continue
        const bytes = b[k] - a[k]
        if (!Number.isFinite(bytes)) continue
        total += tb - ta
        if (bytes < IDLE_SHARE * l.bytesPerSec * (tb - ta) / 1000) idle += tb - ta
      }
      return total > 0 ? 100 * idle / total : undefined
    })
  }
}
