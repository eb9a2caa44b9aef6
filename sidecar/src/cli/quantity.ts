import { UsageError } from './exit-codes.ts'

const PREFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 }

/**
 * A byte count or a rate from the command line: `1048576`, `500k`, `20GB`, `512MiB`, `10MB/s`
 * (k/M/G/T are powers of 1000, Ki/Mi/Gi/Ti powers of 1024; case-insensitive; "B" and "/s" optional).
 * Throws a UsageError naming `flag` for anything else, for zero, and for non-integers of bytes.
 */
export function parseByteQuantity (text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?(?:\/s)?\s*$/i.exec(text)
  const n = m ? Number(m[1]) * PREFIX[(m[2] ?? '').toLowerCase()] : Number.NaN
  if (!Number.isSafeInteger(Math.round(n)) || Math.round(n) < 1 || (m?.[2] === undefined && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be a positive number of bytes, optionally with a unit (e.g. 500k, 20MB, 512MiB), not "${text}"`)
  }
  return Math.round(n)
}
