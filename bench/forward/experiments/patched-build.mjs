// EXPERIMENT, not a fix: bundles the sidecar like esbuild.mjs does, with source patches to three
// libp2p dependencies applied at bundle time (node_modules is never modified), so their effect on
// `npm run bench:forward -- --bundle OUT/meshlink.mjs` can be measured side by side.
//   node bench/forward/experiments/patched-build.mjs OUT [wu] [concat] [batch]
// wu      @chainsafe/libp2p-yamux stream.js: send a window update only once half the receive window
//         is consumed (as go-yamux does) instead of one update frame per data frame received.
// concat  @libp2p/tcp socket-to-conn.js: write a Noise message (2-byte length + ciphertext) with one
//         socket.write instead of one per part (each part was its own syscall and TCP segment).
// batch   @libp2p/utils abstract-stream-muxer.js: collect the frames all streams send during one
//         event-loop turn and hand them to Noise once (setImmediate; at once past 64 KiB), so many
//         small frames cost one encryption, one write and, on the other side, one decryption.
// OUT gets a node_modules symlink to this repository's, for the external zeromq.
import { build } from 'esbuild'
import { readFile } from 'node:fs/promises'
import { mkdirSync, symlinkSync, existsSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const [outArg, ...names] = process.argv.slice(2)
if (!outArg) { process.stderr.write('usage: patched-build.mjs OUT [wu] [concat] [batch]\n'); process.exit(2) }
const out = resolve(outArg)
const TCP_LOOP = `        for (const buf of data) {
            sentBytes += buf.byteLength;
            canSendMore = this.socket.write(buf);
            if (!canSendMore) {
                break;
            }
        }`
const PATCHES = {
  wu: [['@chainsafe/libp2p-yamux/dist/src/stream.js',
    'if (this.recvWindowCapacity >= this.recvWindow && flags === 0) {',
    'if (flags === 0 && (this.recvWindow - this.recvWindowCapacity) < (this.recvWindow >>> 1)) {']],
  concat: [['@libp2p/tcp/dist/src/socket-to-conn.js', TCP_LOOP,
    `        sentBytes = data.byteLength;
        canSendMore = this.socket.write(data instanceof Uint8Array ? data : data.subarray());`]],
  batch: [['@libp2p/utils/dist/src/abstract-stream-muxer.js',
    `    send(data) {
        const result = this.maConn.send(data);`,
    `    send(data) {
        (this._pend ??= []).push(data);
        this._pendBytes = (this._pendBytes ?? 0) + data.byteLength;
        if (this._pendBytes >= 65536) return this._flushPend();
        if (!this._flushSched) {
            this._flushSched = true;
            setImmediate(() => {
                this._flushSched = false;
                try { this._flushPend(); } catch (err) { this.abort(err); this.maConn.abort(err); }
            });
        }
        return this._saturated !== true;
    }
    _flushPend() {
        const list = this._pend; this._pend = null; this._pendBytes = 0;
        if (list == null || list.length === 0) return this._saturated !== true;
        const data = list.length === 1 ? list[0] : new Uint8ArrayList(...list);
        const result = this.maConn.send(data);
        this._saturated = result === false;`],
  ['@libp2p/utils/dist/src/abstract-stream-muxer.js',
    '        const muxerMaConnOnDrain = () => {',
    `        const muxerMaConnOnDrain = () => {
            this._saturated = false;`],
  ['@libp2p/utils/dist/src/abstract-stream-muxer.js',
    "import { MuxerClosedError, TypedEventEmitter } from '@libp2p/interface';",
    "import { MuxerClosedError, TypedEventEmitter } from '@libp2p/interface';\nimport { Uint8ArrayList } from 'uint8arraylist';"]]
}
for (const n of names) if (!PATCHES[n]) throw new Error(`unknown patch "${n}" (wu, concat, batch)`)
const edits = names.flatMap(n => PATCHES[n])
const applied = new Set()
const plugin = {
  name: 'meshlink-experiment-patches',
  setup (b) {
    b.onLoad({ filter: /(libp2p-yamux\/dist\/src\/stream|libp2p\/tcp\/dist\/src\/socket-to-conn|libp2p\/utils\/dist\/src\/abstract-stream-muxer)\.js$/ }, async (args) => {
      let src = await readFile(args.path, 'utf8')
      edits.forEach(([file, from, to], i) => {
        if (!args.path.endsWith(file)) return
        if (!src.includes(from)) throw new Error(`patch for ${file} does not apply (dependency changed?)`)
        src = src.replace(from, to)
        applied.add(i)
      })
      return { contents: src, loader: 'js' }
    })
  }
}
mkdirSync(out, { recursive: true })
if (!existsSync(join(out, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'))
const version = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version
await build({
  entryPoints: [join(ROOT, 'sidecar/src/main.ts')],
  outfile: join(out, 'meshlink.mjs'),
  absWorkingDir: ROOT, bundle: true, platform: 'node', target: 'node22', format: 'esm', external: ['zeromq', 'vscode'], logLevel: 'warning',
  define: { MESHLINK_VERSION: JSON.stringify(`${version}+${names.join('+') || 'unpatched'}`) },
  banner: { js: "import { createRequire as __mlCreateRequire } from 'node:module'; const require = __mlCreateRequire(import.meta.url);" },
  plugins: [plugin]
})
if (applied.size !== edits.length) throw new Error(`only ${applied.size} of ${edits.length} edits applied`)
process.stdout.write(`built ${join(out, 'meshlink.mjs')} with ${names.join(', ') || 'no patches'}\n`)
