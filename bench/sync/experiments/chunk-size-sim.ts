// EXPERIMENT (no sidecar): how many bytes an incremental fetch moves for several chunk sizes, with the real
// chunker on bench:sync's tree (100 files of 2 MiB), 1% overwritten in 20 and in 200 scattered regions;
// 4 random trees each. The numbers behind the sizes in sidecar/src/store/constants.ts.
//   node bench/sync/experiments/chunk-size-sim.ts
import { randomBytes, randomInt, createHash } from 'node:crypto'
import { chunkLengths, type ChunkSizes } from '../../../sidecar/src/store/chunker.ts'
const FILES = 100, FILE = 2 * 1024 * 1024, TOTAL = FILES * FILE
const configs = [[64, 256, 1024], [64, 256, 512], [32, 128, 512], [48, 192, 768], [64, 192, 512]].map(([a, b, c]) => ({ min: a * 1024, avg: b * 1024, max: c * 1024 }))
function chunks (files: Buffer[], sizes: ChunkSizes): Map<string, number> {
  const m = new Map<string, number>()
  for (const f of files) { let at = 0; for (const len of chunkLengths(f, sizes)) { m.set(createHash('sha1').update(f.subarray(at, at + len)).digest('hex'), len); at += len } }
  return m
}
for (const regions of [20, 200]) {
  const res: Record<string, number[]> = {}
  for (let seed = 0; seed < 4; seed++) {
    const files = Array.from({ length: FILES }, () => randomBytes(FILE))
    const newer = files.map(f => Buffer.from(f))
    const rb = Math.floor(TOTAL * 0.01 / regions), slot = Math.floor(TOTAL / regions)
    for (let i = 0; i < regions; i++) {
      let off = i * slot + randomInt(0, slot - rb); let k = Math.floor(off / FILE); off -= k * FILE; let left = rb
      while (left > 0 && k < FILES) { const n = Math.min(left, FILE - off); randomBytes(n).copy(newer[k], off); left -= n; off = 0; k++ }
    }
    for (const c of configs) {
      const key = `${c.min / 1024}/${c.avg / 1024}/${c.max / 1024}`
      const old = chunks(files, c); const now = chunks(newer, c)
      let moved = 0; for (const [h, len] of now) if (!old.has(h)) moved += len
      ;(res[key] ??= []).push(100 * moved / TOTAL)
    }
  }
  for (const [k, v] of Object.entries(res)) console.log(`${regions} regions, min/avg/max KiB ${k}: moved ${v.map(x => x.toFixed(2)).join(' ')} %  (mean ${(v.reduce((a, b) => a + b) / v.length).toFixed(2)})`)
}
