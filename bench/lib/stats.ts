/** Small descriptive statistics for benchmark samples. */

/** Nearest-rank percentile of an ascending array (same rule as the anchor scripts). */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))]
}

export function median (values: number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

export interface Summary {
  median: number
  min: number
  max: number
  n: number
  values: number[]
}

/** Median, min and max of a list of per-run values (NaN when empty). */
export function summarize (values: number[]): Summary {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    n: values.length,
    values
  }
}

/** a / b, or NaN when either side is missing. */
export function ratio (a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN
}

/** Formats a number for tables: 3 significant digits below 100, integers above. */
export function fmt (x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '—'
  return Math.abs(x) < 100 ? x.toPrecision(digits) : Math.round(x).toLocaleString('en-US')
}
