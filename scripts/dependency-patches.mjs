// Source patches applied to two libp2p dependencies when esbuild bundles the sidecar (node_modules is
// never modified). Each fixes a per-message cost measured by `npm run bench:forward` (see
// bench/results/forward-analysis-2026-11-24.md): a forwarded HTTP request paid five socket writes
// per sidecar where ssh pays two. Both are candidates to upstream; a patch that no longer applies
// (the dependency changed) fails the build, so an upgrade cannot drop one silently.
import { readFile } from 'node:fs/promises'

export const PATCHES = [
  {
    why: 'yamux: send a window update once half the receive window is used (as go-yamux does), not one update frame (a write, an encryption) per data frame received',
    file: '@chainsafe/libp2p-yamux/dist/src/stream.js',
    from: 'if (this.recvWindowCapacity >= this.recvWindow && flags === 0) {',
    to: 'if (flags === 0 && (this.recvWindow - this.recvWindowCapacity) < (this.recvWindow >>> 1)) {'
  },
  {
    why: 'tcp: write a Noise message (2-byte length + ciphertext) with one socket.write instead of one per part (each part was its own syscall and TCP segment)',
    file: '@libp2p/tcp/dist/src/socket-to-conn.js',
    from: `        for (const buf of data) {
            sentBytes += buf.byteLength;
            canSendMore = this.socket.write(buf);
            if (!canSendMore) {
                break;
            }
        }`,
    to: `        sentBytes = data.byteLength;
        canSendMore = this.socket.write(data instanceof Uint8Array ? data : data.subarray());`
  }
]

/** An esbuild plugin applying PATCHES; the build fails unless every patch applied exactly once. */
export function dependencyPatches () {
  const applied = new Set()
  return {
    name: 'meshlink-dependency-patches',
    setup (build) {
      build.onLoad({ filter: /(libp2p-yamux\/dist\/src\/stream|libp2p\/tcp\/dist\/src\/socket-to-conn)\.js$/ }, async (args) => {
        let src = await readFile(args.path, 'utf8')
        for (const [i, p] of PATCHES.entries()) {
          if (!args.path.endsWith(p.file)) continue
          if (!src.includes(p.from)) throw new Error(`dependency patch for ${p.file} does not apply (the dependency changed?): ${p.why}`)
          src = src.replace(p.from, p.to)
          applied.add(i)
        }
        return { contents: src, loader: 'js' }
      })
      build.onEnd((result) => {
        if (result.errors.length > 0) return
        const missing = PATCHES.filter((_, i) => !applied.has(i))
        if (missing.length > 0) throw new Error(`dependency patches not applied (file not bundled?): ${missing.map(p => p.file).join(', ')}`)
      })
    }
  }
}
