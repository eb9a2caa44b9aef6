import type { Transfer } from '../gen/protocol-types.ts'

/**
 * The holders a fetch is stuck on: when nothing arrived for 2 s (the sidecar then reads the transfer's
 * rate as 0), the active ones that have requests in flight and sent nothing for as long. Empty while
 * bytes come, or when the transfer is not a fetch with bytes left. For views (CLI, extension).
 */
export function waitingFor (t: Transfer): Transfer['peers'] {
  if (t.kind !== 'fetch' || t.state !== 'running' || t.rateBytesPerSec !== 0 || t.bytesDone >= t.bytesTotal) return []
  return t.peers.filter(p => p.state === 'active' && p.inFlight > 0 && p.rateBytesPerSec === 0)
}
