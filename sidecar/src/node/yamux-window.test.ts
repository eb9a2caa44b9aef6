// The yamux receive-window patch (scripts/dependency-patches.mjs) against the unpatched js-yamux from
// node_modules, over an in-memory connection pair: a stream opened with a larger receive window
// advertises it in its SYN (the peer may then send that much), and neither side assumes more than the
// spec's 256 KiB from a peer that did not advertise it. Data still flows both ways, past the windows.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { yamux as stockYamux } from '@chainsafe/libp2p-yamux'
import { multiaddrConnectionPair } from '@libp2p/utils'
import type { Stream, StreamMuxer } from '@libp2p/interface'
import { dependencyPatches } from '../../../scripts/dependency-patches.mjs'
import { INITIAL_STREAM_WINDOW_BYTES } from './constants.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SPEC_WINDOW = 256 * 1024

type YamuxFactory = typeof stockYamux

/** js-yamux as the sidecar bundles it: every dependency patch applied (the plugin insists on all of them). */
async function patchedYamux (dir: string): Promise<YamuxFactory> {
  const outfile = join(dir, 'patched.mjs')
  await build({
    stdin: {
      contents: "export { yamux } from '@chainsafe/libp2p-yamux'\nexport { tcp } from '@libp2p/tcp'\nexport { noise } from '@chainsafe/libp2p-noise'\nexport { lpStream } from '@libp2p/utils'\n",
      resolveDir: ROOT,
      loader: 'js'
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'silent',
    plugins: [dependencyPatches()],
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" }
  })
  return (await import(pathToFileURL(outfile).href) as { yamux: YamuxFactory }).yamux
}

interface WindowView { sendWindowCapacity: number }

function muxers (outbound: YamuxFactory, outboundInit: Parameters<YamuxFactory>[0], inbound: YamuxFactory, inboundInit: Parameters<YamuxFactory>[0]): { out: StreamMuxer, in: StreamMuxer, remote: Promise<Stream> } {
  const [a, b] = multiaddrConnectionPair()
  const out = outbound(outboundInit)().createStreamMuxer(a)
  const inMuxer = inbound(inboundInit)().createStreamMuxer(b)
  const remote = new Promise<Stream>((resolve) => inMuxer.addEventListener('stream', (evt) => resolve(evt.detail), { once: true }))
  return { out, in: inMuxer, remote }
}

/** Sends `bytes` from `from` to `to` and resolves with what arrived. */
async function transfer (from: Stream, to: Stream, bytes: number): Promise<number> {
  let got = 0
  const arrived = new Promise<number>((resolve, reject) => {
    to.addEventListener('message', (evt) => { got += evt.data.byteLength; if (got >= bytes) resolve(got) })
    to.addEventListener('close', (evt) => { if (evt.error) reject(evt.error) })
    AbortSignal.timeout(20_000).addEventListener('abort', () => reject(new Error(`only ${got} of ${bytes} bytes arrived`)))
  })
  const piece = new Uint8Array(64 * 1024).fill(7)
  for (let sent = 0; sent < bytes; sent += piece.byteLength) {
    if (!from.send(piece)) await new Promise((resolve) => from.addEventListener('drain', resolve, { once: true }))
  }
  return await arrived
}

test('yamux: the sidecar advertises its larger stream window in the SYN, and assumes only 256 KiB of an unpatched peer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshlink-yamux-'))
  try {
    const patched = await patchedYamux(dir)
    const window = { streamOptions: { initialStreamWindowSize: INITIAL_STREAM_WINDOW_BYTES, maxStreamWindowSize: INITIAL_STREAM_WINDOW_BYTES } }
    assert.ok(INITIAL_STREAM_WINDOW_BYTES > SPEC_WINDOW, 'the test needs a window above the spec start')

    // patched opens to stock: the SYN carries the extra window, so stock may send 2 MiB at once
    const p2s = muxers(patched, window, stockYamux, {})
    const opened = await p2s.out.createStream()
    assert.equal((opened as unknown as WindowView).sendWindowCapacity, SPEC_WINDOW, 'the patched opener must not assume the stock peer has more than 256 KiB')
    const accepted = await p2s.remote
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal((accepted as unknown as WindowView).sendWindowCapacity, INITIAL_STREAM_WINDOW_BYTES, 'the stock peer learns the larger window from the SYN')
    assert.equal(await transfer(accepted, opened, 8 * 1024 * 1024), 8 * 1024 * 1024)
    assert.equal(await transfer(opened, accepted, 8 * 1024 * 1024), 8 * 1024 * 1024)
    await p2s.out.close(); await p2s.in.close()

    // stock opens to patched: the patched side answers with its larger window and assumes 256 KiB
    const s2p = muxers(stockYamux, {}, patched, window)
    const stockOpened = await s2p.out.createStream()
    const patchedAccepted = await s2p.remote
    assert.equal((patchedAccepted as unknown as WindowView).sendWindowCapacity, SPEC_WINDOW, 'the patched side must not assume the stock opener has more than 256 KiB')
    assert.equal(await transfer(stockOpened, patchedAccepted, 8 * 1024 * 1024), 8 * 1024 * 1024)
    assert.ok((stockOpened as unknown as WindowView).sendWindowCapacity > SPEC_WINDOW, 'the patched side advertised its larger window once the stream was in use')
    assert.equal(await transfer(patchedAccepted, stockOpened, 8 * 1024 * 1024), 8 * 1024 * 1024)
    await s2p.out.close(); await s2p.in.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
