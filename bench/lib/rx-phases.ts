/**
 * Where a download's time goes, from a received-bytes counter sampled while it runs: how long until
 * data flowed, the rate in the middle of the transfer, and how long the last bytes took. Two tools
 * with the same total time can differ in each; on the namespace LAN this tells a slow start or a long
 * tail (scheduling) from a lower steady rate (CPU or links).
 */
export interface RxPhases {
  /** Seconds from the start until START_SHARE of the bytes had arrived. */
  startS: number
  /** MB/s while the share received went from STEADY_FROM to STEADY_TO. */
  steadyMBps: number
  /** Seconds from STEADY_TO of the bytes to the end of the run. */
  tailS: number
  /**
   * Of `tailS`, the seconds after LAST_SHARE of the bytes had arrived: what the tool did after the
   * data was in (writing, renaming, reporting), within one sampling interval.
   */
  afterS: number
}

const START_SHARE = 0.02
const STEADY_FROM = 0.1
const STEADY_TO = 0.9
/** Not 1: the counter also sees the acknowledgements and pings that go on while the tool finishes. */
const LAST_SHARE = 0.998

/**
 * Samples `read()` (cumulative received bytes, e.g. an interface counter) every `everyMs` until the
 * returned function is called at the end of the run; that gives the phases, or undefined when too
 * few samples or no bytes were seen.
 */
export function watchRxPhases (read: () => number, everyMs = 20): () => RxPhases | undefined {
  const t0 = performance.now()
  const base = read()
  const samples: Array<[number, number]> = [[0, 0]]
  const timer = setInterval(() => samples.push([(performance.now() - t0) / 1000, read() - base]), everyMs)
  return () => {
    clearInterval(timer)
    const end = (performance.now() - t0) / 1000
    samples.push([end, read() - base])
    const total = samples[samples.length - 1][1]
    if (!(total > 0) || samples.length < 8) return undefined
    /** Time the counter first reached `share` of the total, interpolated between samples. */
    const at = (share: number): number => {
      const want = share * total
      for (let i = 1; i < samples.length; i++) {
        const [t1, b1] = samples[i]
        if (b1 < want) continue
        const [t, b] = samples[i - 1]
        return b1 === b ? t1 : t + (t1 - t) * (want - b) / (b1 - b)
      }
      return end
    }
    const from = at(STEADY_FROM); const to = at(STEADY_TO)
    return { startS: at(START_SHARE), steadyMBps: to > from ? (STEADY_TO - STEADY_FROM) * total / 1e6 / (to - from) : Number.NaN, tailS: end - to, afterS: end - at(LAST_SHARE) }
  }
}

/** "start 0.21 s, steady 47.6 MB/s, tail 0.12 s (after the data 0.02 s)". */
export function describePhases (p: RxPhases | undefined): string {
  return p ? `start ${p.startS.toFixed(2)} s, steady ${p.steadyMBps.toFixed(1)} MB/s, tail ${p.tailS.toFixed(2)} s (after the data ${p.afterS.toFixed(2)} s)` : '—'
}
