// One side of the bulk-stream benchmark, in its own process, method copied from the anchor
// /work/shared/anchors/libp2p_bulk.mjs: 256 KiB writes with backpressure ('drain'), half-close,
// the receiver acks the byte count, receiver CPU read over a second protocol.
//   server <member|plain>              prints {"addr"} and sinks streams
//   client <member|plain> <multiaddr>  dials, prints {"ready","dialMs"}, then answers one JSON line
//                                      per stdin command {"op":"measure","streams":K,"bytes":N}
// member = the project's createMeshNode (Noise bound to the mesh secret by its prologue, identify,
// ping, presence: the real composition); plain = createLibp2p(tcp, noise(), yamux()) as the anchor.
// Env (for bench/sync/experiments/fetch-floor.ts, the least a verified fetch must do on top of the
// stream): BULK_SINK_DIR makes the server hash what it receives (SHA-256 per 128 KiB) and write it to
// a file there, writes in order on the thread pool; BULK_SOURCE_FILE makes the client read each
// 256 KiB piece it sends from that file (cycling through it) into a new buffer, as a store read does.
import { createInterface } from 'node:readline'
import { createHash } from 'node:crypto'
import { openSync, readSync, fstatSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { createMeshNode } from '../../sidecar/src/node/create-node.ts'
import { newMeshRecord } from '../../sidecar/src/mesh/mesh-key.ts'
import { exitWithParent } from '../lib/exit-with-parent.ts'
import { BULK_PROTOCOL, CPU_PROTOCOL, MESH_SECRET_ENV, type BulkConfig, type MeasureResult } from './bulk-protocol.ts'

const [role, config, addr] = process.argv.slice(2) as ['server' | 'client', BulkConfig, string | undefined]
if ((role !== 'server' && role !== 'client') || (config !== 'member' && config !== 'plain') || (role === 'client' && !addr)) {
  process.stderr.write('usage: bulk-peer.ts server <member|plain> | client <member|plain> <multiaddr>\n')
  process.exit(2)
}

async function makeNode (): Promise<Libp2p> {
  const listen = role === 'server' ? ['/ip4/127.0.0.1/tcp/0'] : []
  if (config === 'plain') {
    return createLibp2p({ addresses: { listen }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  }
  const secret = process.env[MESH_SECRET_ENV]
  if (!secret) throw new Error(`${MESH_SECRET_ENV} must hold the shared mesh secret (base64url)`)
  const node = await createMeshNode({
    privateKey: await generateKeyPair('Ed25519'),
    mesh: newMeshRecord('bench', false, Buffer.from(secret, 'base64url')),
    listen,
    mdns: false,
    presence: { hello: () => ({ v: 1, name: `bench-${role}`, version: 'bench' }), onHello: () => {} }
  })
  await node.start()
  return node
}

function waitDrain (s: Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { s.removeEventListener('close', onClose); resolve() }
    const onClose = (): void => { s.removeEventListener('drain', onDrain); reject(new Error('stream closed while waiting for drain')) }
    s.addEventListener('drain', onDrain, { once: true })
    s.addEventListener('close', onClose, { once: true })
  })
}

function bytesOf (c: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return c instanceof Uint8Array ? c : c.subarray()
}

const node = await makeNode()
exitWithParent(() => node.stop())

const SINK_DIR = process.env.BULK_SINK_DIR
const SOURCE_FILE = process.env.BULK_SOURCE_FILE
const HASH_PIECE = 128 * 1024

/** Hashes every 128 KiB of what it is given and writes it all, in order, to a file in `dir`. */
async function verifyingSink (dir: string, id: string): Promise<{ take(parts: Uint8Array[]): void, end(): Promise<void> }> {
  const path = join(dir, `sink-${process.pid}-${id}`)
  const fh = await open(path, 'w')
  let hash = createHash('sha256')
  let hashed = 0
  // gathered like store/gathered-io.ts: while one pwritev is in flight, what arrives waits, and then
  // goes out in one call (up to 1,024 buffers)
  const waiting: Uint8Array[] = []
  let waitingAt = 0
  let inFlight: Promise<void> | undefined
  const flush = (): void => {
    if (inFlight !== undefined || waiting.length === 0) return
    const parts = waiting.splice(0, 1024)
    const at = waitingAt
    waitingAt += parts.reduce((a, p) => a + p.byteLength, 0)
    inFlight = fh.writev(parts, at).then(() => { inFlight = undefined; flush() })
  }
  return {
    take (parts) {
      for (const p of parts) {
        let at = 0
        while (at < p.byteLength) {
          const n = Math.min(p.byteLength - at, HASH_PIECE - hashed)
          hash.update(p.subarray(at, at + n))
          hashed += n
          at += n
          if (hashed === HASH_PIECE) { hash.digest(); hash = createHash('sha256'); hashed = 0 }
        }
      }
      waiting.push(...parts)
      flush()
    },
    async end () {
      while (inFlight !== undefined) await inFlight
      await fh.close()
      rmSync(path, { force: true })
    }
  }
}

if (role === 'server') {
  await node.handle(BULK_PROTOCOL, async (stream: Stream) => {
    let n = 0
    const sink = SINK_DIR !== undefined ? await verifyingSink(SINK_DIR, stream.id) : undefined
    try {
      for await (const c of stream) { // ends when the sender half-closes
        n += c.byteLength
        if (sink) sink.take(c instanceof Uint8Array ? [c] : [...c])
      }
      await sink?.end()
    } catch (err) {
      process.stderr.write(`server: stream ${stream.id} failed after ${n} bytes: ${(err as Error).name}: ${(err as Error).message}\n`)
      throw err
    }
    const ack = new Uint8Array(8)
    new DataView(ack.buffer).setBigUint64(0, BigInt(n))
    stream.send(ack)
    await stream.close()
  }, { maxInboundStreams: 64, runOnLimitedConnection: false })
  await node.handle(CPU_PROTOCOL, async (stream: Stream) => {
    for await (const c of stream) void c // the 1-byte request, then EOF
    const u = process.cpuUsage()
    stream.send(new TextEncoder().encode(String(u.user + u.system)))
    await stream.close()
  })
  console.log(JSON.stringify({ addr: node.getMultiaddrs()[0].toString() }))
} else {
  const target = multiaddr(addr!)
  const t0 = performance.now()
  let conn: Connection = await node.dial(target)
  const dialMs = performance.now() - t0
  const CHUNK = 256 * 1024
  const buf = new Uint8Array(CHUNK)
  for (let i = 0; i < buf.length; i++) buf[i] = i * 31 & 255
  const source = SOURCE_FILE !== undefined ? openSync(SOURCE_FILE, 'r') : undefined
  const sourceSize = source !== undefined ? fstatSync(source).size : 0
  let sourceAt = 0
  /** The next piece to send: the constant buffer, or a fresh read from BULK_SOURCE_FILE. */
  const piece = (n: number): Uint8Array => {
    if (source === undefined) return n === CHUNK ? buf : buf.subarray(0, n)
    if (sourceAt + n > sourceSize) sourceAt = 0
    const b = Buffer.allocUnsafe(n)
    readSync(source, b, 0, n, sourceAt)
    sourceAt += n
    return b
  }

  const one = async (bytes: number): Promise<void> => {
    const s = await conn.newStream(BULK_PROTOCOL)
    let closeErr: Error | undefined
    s.addEventListener('close', (e) => { closeErr = (e as Event & { error?: Error }).error ?? closeErr }, { once: true })
    let sent = 0
    try {
      while (sent < bytes) {
        const n = Math.min(CHUNK, bytes - sent)
        const ok = s.send(piece(n))
        sent += n
        if (!ok) await waitDrain(s)
      }
    } catch (err) {
      throw new Error(`stream ${s.id} failed after ${sent} of ${bytes} bytes (status ${s.status}): ${(err as Error).message}; close reason: ${closeErr?.name}: ${closeErr?.message}`)
    }
    await s.close() // half-close: the receiver sees EOF
    let got: bigint | null = null
    for await (const c of s) { const u = bytesOf(c); got = new DataView(u.buffer, u.byteOffset, 8).getBigUint64(0) }
    if (got !== BigInt(bytes)) throw new Error(`receiver acked ${got} of ${bytes} bytes`)
  }
  const remoteCpuUs = async (): Promise<number> => {
    const s = await conn.newStream(CPU_PROTOCOL)
    s.send(new Uint8Array([1]))
    await s.close()
    let txt = ''
    for await (const c of s) txt += new TextDecoder().decode(bytesOf(c))
    return Number(txt)
  }
  const measure = async (streams: number, bytes: number): Promise<MeasureResult> => {
    const per = Math.floor(bytes / streams)
    const rc1 = await remoteCpuUs()
    const t1 = performance.now()
    const c1 = process.cpuUsage()
    await Promise.all(Array.from({ length: streams }, () => one(per)))
    const dt = (performance.now() - t1) / 1000
    const c = process.cpuUsage(c1)
    const rc = await remoteCpuUs() - rc1
    return { ok: true, MBps: per * streams / 1e6 / dt, seconds: dt, senderCpuPct: (c.user + c.system) / 1e4 / dt, receiverCpuPct: rc / 1e4 / dt }
  }

  console.log(JSON.stringify({ ready: true, dialMs }))
  const rl = createInterface({ input: process.stdin })
  for await (const line of rl) {
    const cmd = JSON.parse(line) as { op: string, streams: number, bytes: number }
    if (cmd.op !== 'measure') continue
    let res: MeasureResult
    try {
      res = await measure(cmd.streams, cmd.bytes)
    } catch (err) {
      // a failed transfer is reported, not hidden; the next one redials if the connection died
      let redialed = false
      if (conn.status !== 'open') {
        try { conn = await node.dial(target); redialed = true } catch { /* reported by the next measure */ }
      }
      res = { ok: false, error: String((err as Error).message ?? err), redialed }
    }
    console.log(JSON.stringify(res))
  }
}
