import type { ArtifactStore } from '../store/artifact-store.ts'
import type { OutputTree } from '../store/output-tree.ts'
import { Fetcher, type FetcherInit } from './fetcher.ts'

/** Rounds of "fetch what is missing": a second one only when the store held damaged chunks. */
const MAX_ROUNDS = 3

/**
 * Fills an output tree while fetching: every verified chunk goes to its places in the tree and into the
 * store as it arrives (recorded where the tree wrote it when that is a linked file, else copied into a
 * pack at the same time, from the same buffers); chunks that were already in the store are copied
 * into the tree meanwhile. When the tree is complete nothing is left to do but rename it into place
 * (no read-back pass after the transfer). A chunk the store finds damaged while it is copied is deleted
 * there and fetched in another round. The first failure (full disk, no holders, cancel) ends both.
 */
export async function fetchIntoTree (tree: OutputTree, store: ArtifactStore, init: Omit<FetcherInit, 'keep' | 'signal'>): Promise<void> {
  if (tree.store !== store.chunks) throw new Error('the output tree must be created with the store it fetches into (bug)')
  // writing a chunk to the tree keeps it in the store too
  const keep = (hash: string, parts: readonly Uint8Array[]): Promise<void> => tree.write(hash, parts)
  for (let round = 1; !tree.complete; round++) {
    if (round > MAX_ROUNDS) throw new Error(`${tree.missing().length} chunk(s) of the tree could not be written`)
    const failed = new AbortController()
    const signal = AbortSignal.any([init.transfer.signal, failed.signal])
    const local = tree.missing().filter(h => store.chunks.has(h))
    const copying = tree.copyFrom(store.chunks, local, signal).catch((err: Error) => {
      failed.abort(err)
      throw err
    })
    const fetching = new Fetcher({ ...init, keep, signal }).run().catch((err: Error) => {
      failed.abort(err)
      throw err
    })
    const results = await Promise.allSettled([fetching, copying])
    // the first failure is the cause; the other side then failed with it as its abort reason
    const failure = results.find(r => r.status === 'rejected')
    if (failure) throw failed.signal.reason ?? (failure as PromiseRejectedResult).reason
  }
}
