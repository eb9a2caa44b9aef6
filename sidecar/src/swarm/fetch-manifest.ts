import type { MeshLibp2p } from '../node/create-node.ts'
import type { Logger } from '../log/logger.ts'
import { parseManifest } from '../store/manifest.ts'
import { UnsafeManifestError } from '../store/errors.ts'
import { NoHoldersError, type Holder } from './fetcher.ts'
import { PeerSession } from './peer-session.ts'
import { MANIFEST_SOURCES } from './constants.ts'

/** The whole, checked manifest from one holder; rejects with what went wrong there. */
async function manifestFrom (node: MeshLibp2p, h: Holder, id: string, signal: AbortSignal): Promise<Buffer> {
  const s = new PeerSession(h.peer)
  const onAbort = (): void => s.close(signal.reason as Error)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await s.open(node, signal)
    const bytes = await s.manifest(id) // bounded in time by the session (see PeerSession.manifest)
    parseManifest(bytes, id)
    return bytes
  } finally {
    signal.removeEventListener('abort', onAbort)
    s.close()
  }
}

/**
 * Gets and checks the manifest of artifact `id`, nearest holders first. MANIFEST_SOURCES holders are
 * asked at once and the first whole, valid copy wins (the others are cut off), so a nearest holder on
 * a slow link does not hold up the start; when they all fail the next ones are asked the same way.
 * A holder that does not start answering within SETUP_TIMEOUT_MS, or then stops, counts as failed. A manifest that is
 * valid but unsafe (its id is its hash, so every holder has the same bytes) ends it.
 */
export async function fetchManifest (node: MeshLibp2p, id: string, holders: readonly Holder[], signal: AbortSignal, log: Logger): Promise<Buffer> {
  const order = [...holders].sort((a, b) => (a.rttMs ?? 1e9) - (b.rttMs ?? 1e9))
  let last: unknown = new NoHoldersError(`no connected member holds artifact ${id}`)
  for (let at = 0; at < order.length; at += MANIFEST_SOURCES) {
    const round = new AbortController()
    const both = AbortSignal.any([signal, round.signal])
    const asked = order.slice(at, at + MANIFEST_SOURCES)
    try {
      return await Promise.any(asked.map(async (h) => {
        try {
          return await manifestFrom(node, h, id, both)
        } catch (err) {
          if (!round.signal.aborted) log.info('manifest %s from %s failed: %s', id, h.name ?? h.peer, err)
          throw err
        }
      }))
    } catch (err) {
      const errors = (err as AggregateError).errors ?? [err]
      signal.throwIfAborted()
      const unsafe = errors.find(e => e instanceof UnsafeManifestError)
      if (unsafe !== undefined) throw unsafe
      last = errors.at(-1)
    } finally {
      round.abort(new Error('another holder sent the manifest first'))
    }
  }
  throw last instanceof Error && !(last instanceof NoHoldersError) ? new NoHoldersError(`could not get the manifest of ${id}: ${last.message}`) : last
}
