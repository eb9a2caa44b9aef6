import { readdirSync, lstatSync, readlinkSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash } from 'node:crypto'

/** Every path with its type, mode, and SHA-256 (or link target), sorted: equal digests = byte-exact trees. */
export function treeDigest (dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name
    const p = join(dir, r)
    const st = lstatSync(p)
    if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(p)}`)
    else if (st.isDirectory()) { out.push(`${r}/ ${(st.mode & 0o777).toString(8)}`); out.push(...treeDigest(dir, r)) }
    else out.push(`${r} ${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`)
  }
  return out
}
