// Real servers for forwarding tests: an HTTP dev-server stand-in (deterministic bodies, echo, SSE,
// WebSocket echo) and raw TCP servers for half-close behaviour. All bind 127.0.0.1 only.
import { createServer as createHttp, type Server as HttpServer } from 'node:http'
import { createServer as createTcp, type Server as TcpServer, type Socket } from 'node:net'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** Deterministic bytes: the same (offset -> byte) function on both ends lets tests check bodies without storing them. */
export function patternChunk (offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 2654435761 >>> 24) & 0xff
  return b
}

export function sha256Pattern (total: number, chunk = 1 << 20): string {
  const h = createHash('sha256')
  for (let o = 0; o < total; o += chunk) h.update(patternChunk(o, Math.min(chunk, total - o)))
  return h.digest('hex')
}

export interface DevServer {
  server: HttpServer
  port: number
  /** Bytes the /bytes handler has handed to its socket so far (for the slow-reader test). */
  bytesWritten(): number
  close(): Promise<void>
}

function wsAccept (key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
}

/** Decodes client frames (masked) and echoes text/binary frames back unmasked; answers close. */
function wsEcho (sock: Socket): void {
  let buf = Buffer.alloc(0)
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d])
    for (;;) {
      if (buf.length < 2) return
      const op = buf[0] & 0x0f
      let len = buf[1] & 0x7f
      let off = 2
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4 } else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10 }
      const masked = (buf[1] & 0x80) !== 0
      const need = off + (masked ? 4 : 0) + len
      if (buf.length < need) return
      const mask = masked ? buf.subarray(off, off + 4) : null
      const payload = Buffer.from(buf.subarray(off + (masked ? 4 : 0), need))
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3]
      buf = buf.subarray(need)
      if (op === 0x8) { sock.end(Buffer.from([0x88, 0])); return }
      let head: Buffer
      if (payload.length < 126) head = Buffer.from([0x80 | op, payload.length])
      else if (payload.length < 65536) head = Buffer.from([0x80 | op, 126, payload.length >> 8, payload.length & 0xff])
      else { head = Buffer.alloc(10); head[0] = 0x80 | op; head[1] = 127; head.writeBigUInt64BE(BigInt(payload.length), 2) }
      sock.write(Buffer.concat([head, payload]))
    }
  })
}

/**
 * GET /bytes?n=N streams N pattern bytes (with backpressure); POST /echo returns the body;
 * GET /sse sends 3 events then ends; GET /hello is a small page; Upgrade: websocket echoes.
 */
export async function startDevServer (): Promise<DevServer> {
  let written = 0
  const server = createHttp({ keepAlive: true }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/bytes') {
      const n = Number(url.searchParams.get('n') ?? '0')
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) })
      let off = 0
      const pump = (): void => {
        while (off < n) {
          const c = patternChunk(off, Math.min(256 * 1024, n - off))
          off += c.length
          written += c.length
          if (!res.write(c)) { res.once('drain', pump); return }
        }
        res.end()
      }
      res.on('close', () => { off = n })
      pump()
    } else if (url.pathname === '/echo') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      req.pipe(res)
    } else if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      let i = 0
      const t = setInterval(() => {
        res.write(`event: tick\ndata: ${i}\n\n`)
        if (++i === 3) { clearInterval(t); res.end() }
      }, 50)
      res.on('close', () => clearInterval(t))
    } else {
      const body = `hello from ${url.pathname}`
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) })
      res.end(body)
    }
  })
  server.on('upgrade', (req, sock: Socket) => {
    const key = req.headers['sec-websocket-key']
    if (typeof key !== 'string') { sock.destroy(); return }
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAccept(key)}\r\n\r\n`)
    wsEcho(sock)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as { port: number }).port,
    bytesWritten: () => written,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/** A raw TCP server; `onConnection` gets each socket with allowHalfOpen on. */
export async function startTcpServer (onConnection: (s: Socket) => void): Promise<{ server: TcpServer, port: number, close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createTcp({ allowHalfOpen: true }, (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); onConnection(s) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  }
}

/** Whether a listener can take `port` on 127.0.0.1 now (it is released again at once). */
async function canListen (port: number): Promise<boolean> {
  const s = createTcp()
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (ok) await new Promise<void>((resolve) => s.close(() => resolve()))
  return ok
}

/** Lowest port of the kernel's ephemeral range (Linux), or undefined. */
function ephemeralLow (): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) ? low : undefined
  } catch { return undefined }
}

/** Ports below the ephemeral range are picked from here up (clear of the well-known and common dev ports). */
const FIXED_PORTS_FROM = 20_000

/**
 * A port on 127.0.0.1 with nothing listening: for a target that must refuse connections, or a
 * listener that must get the same port again after a restart. Where the kernel's ephemeral range
 * leaves room, the port is below it: listen(0) and connect() never hand such a port out, so another
 * process (a parallel test's server, an outgoing connection) cannot take it meanwhile, as it could
 * a port bound at random and released (about 1 in 14,000 per listen(0) elsewhere in that time).
 */
export async function unusedPort (): Promise<number> {
  const low = ephemeralLow()
  if (low !== undefined && low - FIXED_PORTS_FROM >= 1000) {
    for (let i = 0; i < 50; i++) {
      const port = FIXED_PORTS_FROM + Math.floor(Math.random() * (low - FIXED_PORTS_FROM))
      if (await canListen(port)) return port
    }
  }
  const s = createTcp()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}
