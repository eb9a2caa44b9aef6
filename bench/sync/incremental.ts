// Phase 3: incremental. A publishes a tree (100 files), B fetches it. Then 1% of the tree's bytes is
// overwritten in place at random offsets (file sizes unchanged), A re-publishes under the same tag,
// and B (which holds the previous version) fetches the new one: bytes moved = the transfer's
// bytesFromPeers. Two patterns one after the other: 20 regions (a rebuild touching a few files) and
// 200 regions (finely scattered). The goal is judged on the first; the second shows the sensitivity.
import { join, relative } from 'node:path'
import { openSync, writeSync, closeSync, statSync, cpSync, rmSync } from 'node:fs'
import { randomBytes, randomInt } from 'node:crypto'
import { bigTempDir, removeBigDir, makeTree, sameTree, startSidecar, formMesh, publish, seesArtifact, waitTransfer, type Log, type Sidecar } from './common.ts'

export interface IncrementalOptions { treeMiB: number, nodeArgs: (role: string) => string[], log: Log }
export interface IncrementalPattern { label: string, regions: number, regionBytes: number, changedBytes: number, treeBytes: number, bytesMoved: number, movedFraction: number, publishSeconds: number, fetchSeconds: number, verified: boolean, peers: Array<{ name: string | null, bytes: number, chunks: number }> }
export interface IncrementalResult { description: string, initial: { publishSeconds: number, fetchSeconds: number, bytesMoved: number, verified: boolean }, patterns: IncrementalPattern[] }

const FILES = 100

/** Overwrites `regions` random, non-overlapping regions (of the tree seen as one byte range) with random bytes. */
function mutate (files: string[], regions: number, regionBytes: number): void {
  const sizes = files.map(f => statSync(f).size)
  const total = sizes.reduce((a, b) => a + b, 0)
  const slot = Math.floor(total / regions) // one region per slot: scattered, never overlapping
  for (let i = 0; i < regions; i++) {
    let off = i * slot + randomInt(0, Math.max(1, slot - regionBytes))
    let k = 0
    while (off >= sizes[k]) { off -= sizes[k]; k++ }
    let left = regionBytes
    while (left > 0 && k < files.length) {
      const n = Math.min(left, sizes[k] - off)
      const fd = openSync(files[k], 'r+')
      writeSync(fd, randomBytes(n), 0, n, off)
      closeSync(fd)
      left -= n; off = 0; k++
    }
  }
}

export async function runIncremental (o: IncrementalOptions): Promise<IncrementalResult> {
  const treeBytes = o.treeMiB * 1024 * 1024
  const dir = bigTempDir('incremental', treeBytes * 8)
  let a: Sidecar | undefined; let b: Sidecar | undefined
  try {
    const src = join(dir, 'src')
    const files = makeTree(src, FILES, Math.floor(treeBytes / FILES))
    a = await startSidecar({ label: 'inc-publisher', stateDir: join(dir, 'a'), listen: '/ip4/127.0.0.1/tcp/0', nodeArgs: o.nodeArgs('inc-publisher') })
    b = await startSidecar({ label: 'inc-fetcher', stateDir: join(dir, 'b'), listen: '/ip4/127.0.0.1/tcp/0', nodeArgs: o.nodeArgs('inc-fetcher') })
    await formMesh(a, [b])
    const fetch = async (id: string, out: string): Promise<{ seconds: number, moved: number, verified: boolean, peers: IncrementalPattern['peers'] }> => {
      await seesArtifact(b!, id, 1)
      const t0 = performance.now()
      const { transfer } = await b!.client.call('artifacts.fetch', { artifact: id, out })
      const { t, at } = await waitTransfer(b!, transfer.id, 120_000)
      if (t.state !== 'done') throw new Error(`fetch ${t.state}: ${JSON.stringify(t.error)}`)
      return { seconds: (at - t0) / 1000, moved: t.bytesFromPeers, verified: sameTree(src, out), peers: t.peers.map(p => ({ name: p.name, bytes: p.bytes, chunks: p.chunks })) }
    }
    const p0 = await publish(a, src, 'bench-inc@main')
    const f0 = await fetch(p0.id, join(dir, 'out0'))
    o.log(`  v1: published in ${p0.seconds.toFixed(2)} s, fetched by B in ${f0.seconds.toFixed(2)} s (${(f0.moved / 1e6).toFixed(1)} MB moved, ${f0.verified ? 'byte-exact' : 'MISMATCH'})`)
    const patterns: IncrementalPattern[] = []
    let v = 1
    for (const regions of [20, 200]) {
      v++
      const changed = Math.round(treeBytes * 0.01)
      const regionBytes = Math.floor(changed / regions)
      mutate(files, regions, regionBytes)
      const p = await publish(a, src, 'bench-inc@main')
      const out = join(dir, `out${v}`)
      const f = await fetch(p.id, out)
      const label = `1% in ${regions} scattered regions of ${(regionBytes / 1024).toFixed(0)} KiB`
      patterns.push({ label, regions, regionBytes, changedBytes: regionBytes * regions, treeBytes, bytesMoved: f.moved, movedFraction: f.moved / treeBytes, publishSeconds: p.seconds, fetchSeconds: f.seconds, verified: f.verified, peers: f.peers })
      o.log(`  v${v} (${label}): re-published in ${p.seconds.toFixed(2)} s; B fetched in ${f.seconds.toFixed(2)} s moving ${(f.moved / 1e6).toFixed(2)} MB = ${(100 * f.moved / treeBytes).toFixed(2)} % of the tree (${f.verified ? 'byte-exact' : 'MISMATCH'})`)
      rmSync(out, { recursive: true, force: true })
    }
    void cpSync; void relative
    return {
      description: `${o.treeMiB} MiB tree of ${FILES} files (pseudo-random). B fetched v1, then each pattern changes 1% of the bytes in place (random offsets, one region per equal slice of the tree so they are scattered), A re-publishes under the same tag and B fetches the new id; "bytes moved" is the fetch's bytesFromPeers. The patterns apply one after the other (v3 = v2 + the 200-region change; B holds v1 and v2).`,
      initial: { publishSeconds: p0.seconds, fetchSeconds: f0.seconds, bytesMoved: f0.moved, verified: f0.verified },
      patterns
    }
  } finally {
    await b?.stop(); await a?.stop()
    removeBigDir(dir)
  }
}
