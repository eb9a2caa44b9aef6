// Private service forwarding between real sidecar processes: real HTTP/WebSocket/SSE/TCP servers
// behind a share, byte-exact bodies, access control, outsiders, many connections, big bodies,
// a slow reader, refused targets, and a host restart.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { request, Agent } from 'node:http'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { startSidecar, waitFor, collectEvents, removeStateDir, type SidecarProcess } from '../helpers/sidecar-process.ts'
import { startDevServer, startTcpServer, unusedPort, patternChunk, sha256Pattern, type DevServer } from '../helpers/servers.ts'

let alice: SidecarProcess, bob: SidecarProcess, carol: SidecarProcess
let dev: DevServer
/** Bob's local port for alice's "web" service (opened in before()). */
let webPort = 0
const cleanups: Array<() => Promise<unknown> | unknown> = []
const all = (): SidecarProcess[] => [alice, bob, carol].filter(Boolean)

before(async () => {
  dev = await startDevServer()
  // a port the kernel never hands out by itself: no other process can take it while alice restarts on it (last tests)
  alice = await startSidecar({ name: 'alice', args: ['--listen', `/ip4/127.0.0.1/tcp/${await unusedPort()}`, '--no-mdns'] })
  bob = await startSidecar({ name: 'bob' })
  carol = await startSidecar({ name: 'carol' })
  const { code } = await alice.client.call('mesh.invite')
  for (const s of [bob, carol]) assert.equal((await s.client.call('mesh.join', { code })).connected, true)
  await waitFor(async () => (await alice.client.call('peers.list')).peers.filter(p => p.connected && p.name).length === 2, 'alice to know bob and carol by name')
  await waitFor(async () => (await bob.client.call('peers.list')).peers.some(p => p.name === 'alice'), 'bob to know alice by name')
  webPort = await shareAndOpen(alice, bob, dev.port, 'web')
})
after(async () => {
  for (const c of cleanups.reverse()) await c()
  await dev?.close()
  for (const s of all()) { await s.stop(); removeStateDir(s.stateDir) }
})

function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

function get (port: number, path: string, agent?: Agent): Promise<{ status: number, body: Buffer, headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 20_000 }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

async function shareAndOpen (host: SidecarProcess, guest: SidecarProcess, port: number, name: string, allow?: string[]): Promise<number> {
  await host.client.call('services.share', { port, name, ...(allow ? { allow: allow as [string, ...string[]] } : {}) })
  await waitFor(async () => (await guest.client.call('services.list')).services.some(s => s.name === name && !s.mine), `${name} to reach the guest`)
  const { forward } = await guest.client.call('forwards.open', { peer: 'alice', service: name })
  assert.equal(forward.localAddress, '127.0.0.1', 'forwards bind loopback by default')
  cleanups.push(() => guest.client.call('forwards.close', { id: forward.id }).catch(() => {}))
  return forward.localPort
}

test('an HTTP dev server behind a share: byte-exact bodies, keep-alive, echo, SSE, WebSocket', { timeout: 60_000 }, async () => {
  const port = webPort
  const svc = (await bob.client.call('services.list')).services.find(s => s.name === 'web')!
  assert.deepEqual({ host: svc.host, hostName: svc.hostName, port: svc.port, allow: svc.allow, online: svc.online, mine: svc.mine }, { host: alice.info.peerId, hostName: 'alice', port: dev.port, allow: null, online: true, mine: false })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    for (const n of [0, 1, 1000, 65_536, 3_000_001]) {
      const r = await get(port, `/bytes?n=${n}`, agent)
      assert.equal(r.status, 200)
      assert.ok(r.body.equals(patternChunk(0, n)), `body of ${n} bytes differs`)
    }
    const fwd = (await bob.client.call('forwards.list')).forwards.find(f => f.service === 'web')!
    assert.equal(fwd.totalConnections, 1, 'keep-alive reused one forwarded connection')
  } finally { agent.destroy() }

  // POST echo of a 5 MB body
  const body = patternChunk(7, 5_000_000)
  const echoed = await new Promise<Buffer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      const parts: Buffer[] = []; res.on('data', (d: Buffer) => parts.push(d)); res.on('end', () => resolve(Buffer.concat(parts)))
    })
    req.on('error', reject); req.end(body)
  })
  assert.ok(echoed.equals(body), 'echoed body differs')

  // server-sent events arrive as they are sent
  const sse = await get(port, '/sse')
  assert.equal(sse.headers['content-type'], 'text/event-stream')
  assert.equal(sse.body.toString(), 'event: tick\ndata: 0\n\nevent: tick\ndata: 1\n\nevent: tick\ndata: 2\n\n')

  // WebSocket upgrade (hot reload): Node's WebSocket client through the forward
  const ws = new WebSocket(`ws://127.0.0.1:${port}/hmr`)
  const got: string[] = []
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => { ws.send('ping-1'); ws.send('x'.repeat(70_000)) }
    ws.onmessage = (e) => { got.push(String(e.data)); if (got.length === 2) resolve() }
    ws.onerror = () => reject(new Error('websocket error'))
    setTimeout(() => reject(new Error('websocket timed out')), 10_000)
  })
  ws.close()
  assert.equal(got[0], 'ping-1')
  assert.ok(got[1] === 'x'.repeat(70_000), `second message: ${got[1]?.length} chars`)
})

test('half-close in both directions is carried', { timeout: 30_000 }, async () => {
  // client closes first: the server reads to EOF, then answers and closes
  const upload = await startTcpServer((s) => {
    const h = createHash('sha256')
    s.on('data', (d) => h.update(d))
    s.on('end', () => s.end(`sha256:${h.digest('hex')}`))
  })
  cleanups.push(() => upload.close())
  const upPort = await shareAndOpen(alice, bob, upload.port, 'upload')
  const payload = patternChunk(3, 2_000_000)
  const reply = await new Promise<string>((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port: upPort, allowHalfOpen: true })
    let out = ''
    c.on('data', (d) => { out += d })
    c.on('end', () => resolve(out))
    c.on('error', reject)
    c.end(payload)
  })
  assert.equal(reply, `sha256:${createHash('sha256').update(payload).digest('hex')}`)

  // server closes first: it greets and ends its side; the client can still send and gets an answer
  const greeter = await startTcpServer((s) => {
    let got = ''
    s.end('hello\n')
    s.on('data', (d) => { got += d })
    s.on('end', () => { /* the server already closed its write side: log only */ void got })
  })
  cleanups.push(() => greeter.close())
  const gPort = await shareAndOpen(alice, bob, greeter.port, 'greeter')
  const seen = await new Promise<{ greeting: string, wroteAfterEof: boolean }>((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port: gPort, allowHalfOpen: true })
    let greeting = ''
    c.on('data', (d) => { greeting += d })
    c.on('end', () => {
      // our read side is done; writing must still work (half-open)
      const ok = c.write('late data\n')
      c.end(() => resolve({ greeting, wroteAfterEof: ok !== undefined }))
    })
    c.on('error', reject)
  })
  assert.equal(seen.greeting, 'hello\n')
  assert.ok(seen.wroteAfterEof)
})

test('an upload to a service that reads slowly arrives whole (backpressure guest -> host -> service)', { timeout: 60_000 }, async () => {
  const slow = await startTcpServer((s) => {
    const h = createHash('sha256')
    let n = 0
    s.pause()
    const t = setInterval(() => {
      let c: Buffer | null
      let budget = 256 * 1024
      while (budget > 0 && (c = s.read() as Buffer | null) !== null) { h.update(c); n += c.length; budget -= c.length }
    }, 20)
    s.on('end', () => { clearInterval(t); s.end(`${n}:${h.digest('hex')}`) })
    s.on('close', () => clearInterval(t))
  })
  cleanups.push(() => slow.close())
  const port = await shareAndOpen(alice, bob, slow.port, 'slow-upload')
  const payload = patternChunk(11, 24 * 1024 * 1024)
  const reply = await new Promise<string>((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
    let out = ''
    c.on('data', (d) => { out += d })
    c.on('end', () => resolve(out))
    c.on('error', reject)
    c.end(payload)
  })
  assert.equal(reply, `${payload.length}:${createHash('sha256').update(payload).digest('hex')}`)
})

test('only allowed members reach a service; refusals are reported on both sides', async () => {
  const aliceEvents = collectEvents(alice.info, ['service.refused'])
  const bobEvents = collectEvents(bob.info, ['forward.'])
  try {
    await alice.client.call('services.share', { port: dev.port, name: 'private', allow: ['bob'] })
    await waitFor(async () => (await carol.client.call('services.list')).services.some(s => s.name === 'private'), 'carol to see the private service listed')
    const listed = (await carol.client.call('services.list')).services.find(s => s.name === 'private')!
    assert.deepEqual(listed.allow, [bob.info.peerId], 'display names are stored as peer ids')
    await assert.rejects(carol.client.call('forwards.open', { peer: alice.info.peerId, service: 'private' }), (e: Error & { code?: string }) => e.code === 'FORBIDDEN')
    // bob may: open, fetch; then alice narrows the share to carol only: bob's next connection is refused by the host itself
    const { forward } = await bob.client.call('forwards.open', { peer: 'alice', service: 'private' })
    assert.equal((await get(forward.localPort, '/hello')).body.toString(), 'hello from /hello')
    await alice.client.call('services.share', { port: dev.port, name: 'private', allow: [carol.info.peerId] })
    await waitFor(async () => (await bob.client.call('services.list')).services.find(s => s.name === 'private')?.allow?.[0] === carol.info.peerId, 'bob to learn the new allow list')
    const t0 = Date.now()
    await assert.rejects(get(forward.localPort, '/hello'), /socket hang up|ECONNRESET/)
    assert.ok(Date.now() - t0 < 5000, 'the refused connection closes promptly')
    await waitFor(() => aliceEvents.events.some(e => e.event === 'service.refused' && (e.data as { peer: string }).peer === bob.info.peerId), 'service.refused on the host')
    await waitFor(() => bobEvents.events.some(e => e.event === 'forward.failed' && (e.data as { code: string }).code === 'FORBIDDEN'), 'forward.failed FORBIDDEN on the guest')
    assert.match(alice.stderr(), /refused private from .*not allowed/)
    assert.match(bob.stderr(), /refused by host: peer .* is not allowed/)
    await bob.client.call('forwards.close', { id: forward.id })
    await alice.client.call('services.unshare', { name: 'private' })
  } finally { aliceEvents.close(); bobEvents.close() }
})

test('an outsider (another mesh) sees no services and reaches none', async () => {
  const aliceAddr = (await alice.client.call('node.status')).listenAddrs[0]
  const mallory = await startSidecar({ name: 'mallory', args: ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--bootstrap', aliceAddr] })
  try {
    // the dial has been made and refused (else the checks below would pass before it happened), then a while for anything it might start
    await waitFor(() => /bootstrap dial of \S+ failed/.test(mallory.stderr()), 'mallory\'s bootstrap dial of alice to fail')
    await new Promise(r => setTimeout(r, 2000))
    assert.deepEqual((await mallory.client.call('services.list')).services, [])
    await assert.rejects(mallory.client.call('forwards.open', { peer: alice.info.peerId, service: 'web' }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND')
    assert.ok(!(await alice.client.call('peers.list')).peers.some(p => p.id === mallory.info.peerId))
  } finally { await mallory.stop(); removeStateDir(mallory.stateDir) }
})

test('a target that refuses connections: the guest connection closes promptly, with the reason logged', async () => {
  const dead = await unusedPort()
  const events = collectEvents(bob.info, ['forward.failed'])
  try {
    const port = await shareAndOpen(alice, bob, dead, 'down')
    const t0 = Date.now()
    await assert.rejects(get(port, '/'), /socket hang up|ECONNRESET/)
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
    await waitFor(() => events.events.some(e => (e.data as { code: string }).code === 'TARGET_UNREACHABLE'), 'forward.failed TARGET_UNREACHABLE')
    assert.match(bob.stderr(), /connection refused \(is the service running\?\)/)
    assert.match(alice.stderr(), /refused down from .*connection refused/)
  } finally { events.close() }
})

test('500 concurrent connections through one forward', async () => {
  const port = webPort
  const agent = new Agent({ keepAlive: false, maxSockets: 500 })
  try {
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => get(port, `/bytes?n=${1000 + i}`, agent)))
    results.forEach((r, i) => { assert.equal(r.status, 200); assert.ok(r.body.equals(patternChunk(0, 1000 + i)), `connection ${i}`) })
  } finally { agent.destroy() }
  // many sockets open at once (not just many in sequence): hold 500 keep-alive sockets, then use them all
  const socks: Socket[] = await Promise.all(Array.from({ length: 500 }, () => new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s)); s.on('error', reject)
  })))
  try {
    await waitFor(async () => (await bob.client.call('forwards.list')).forwards.find(f => f.service === 'web')!.connections >= 500, '500 open connections')
    const replies = await Promise.all(socks.map((s, i) => new Promise<string>((resolve, reject) => {
      let buf = ''
      s.on('data', (d) => { buf += d; if (buf.endsWith(`hello from /c${i}`)) resolve(buf) })
      s.on('error', reject)
      s.write(`GET /c${i} HTTP/1.1\r\nHost: x\r\n\r\n`)
    })))
    assert.equal(replies.length, 500)
  } finally { for (const s of socks) s.destroy() }
})

test('1 GiB body through the forward, byte-exact (SHA-256)', async () => {
  const port = webPort
  const n = 1024 * 1024 * 1024
  const h = createHash('sha256')
  let got = 0
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/bytes?n=${n}` }, (res) => {
      res.on('data', (d: Buffer) => { h.update(d); got += d.length })
      res.on('end', resolve)
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(got, n)
  assert.equal(h.digest('hex'), sha256Pattern(n))
})

test('a slow reader does not make either sidecar buffer without bound', async () => {
  const port = webPort
  const base = { alice: rssMiB(alice.proc.pid!), bob: rssMiB(bob.proc.pid!) }
  const writtenBefore = dev.bytesWritten()
  const sock = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve) => sock.once('connect', resolve))
  sock.write(`GET /bytes?n=${2 * 1024 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`)
  // read 64 KiB every 100 ms (~0.6 MB/s) for 6 s while the server could send GB/s
  let read = 0
  const peak = { alice: 0, bob: 0 }
  sock.pause()
  for (let i = 0; i < 60; i++) {
    await new Promise(r => setTimeout(r, 100))
    let c: Buffer | null
    let budget = 64 * 1024
    while (budget > 0 && (c = sock.read(Math.min(budget, sock.readableLength || 1)) as Buffer | null) !== null) { read += c.length; budget -= c.length }
    peak.alice = Math.max(peak.alice, rssMiB(alice.proc.pid!))
    peak.bob = Math.max(peak.bob, rssMiB(bob.proc.pid!))
  }
  const inFlight = dev.bytesWritten() - writtenBefore - read
  sock.destroy()
  // what the server pushed beyond what we read sits in kernel socket buffers and at most a few stream windows
  assert.ok(inFlight < 64 * 1024 * 1024, `server got ${(inFlight / 1e6).toFixed(1)} MB ahead of a reader that read ${(read / 1e6).toFixed(1)} MB`)
  assert.ok(peak.alice - base.alice < 64, `host RSS grew ${(peak.alice - base.alice).toFixed(1)} MiB`)
  assert.ok(peak.bob - base.bob < 64, `guest RSS grew ${(peak.bob - base.bob).toFixed(1)} MiB`)
})

test('host restart: the guest forward works again with the same local port', async () => {
  const before = (await bob.client.call('forwards.list')).forwards.find(f => f.service === 'web')!
  const aliceState = alice.stateDir
  const aliceAddr = (await alice.client.call('node.status')).listenAddrs[0]
  const port = /\/tcp\/(\d+)/.exec(aliceAddr)![1]
  assert.equal(await alice.stop(), 0)
  await assert.rejects(get(before.localPort, '/hello'), /socket hang up|ECONNRESET/)
  alice = await startSidecar({ stateDir: aliceState, args: ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns'] })
  await waitFor(async () => (await bob.client.call('services.list')).services.find(s => s.name === 'web')?.online === true, 'web to be online again', 20_000)
  const after = (await bob.client.call('forwards.list')).forwards.find(f => f.service === 'web')!
  assert.equal(after.localPort, before.localPort)
  assert.equal(after.id, before.id)
  assert.equal((await get(after.localPort, '/hello')).body.toString(), 'hello from /hello')
  assert.ok((await alice.client.call('services.list')).services.some(s => s.name === 'web' && s.mine), 'shares persist across restarts')
})

test('a host that leaves the mesh takes its services with it; one that only goes offline keeps them listed as offline', async () => {
  await carol.client.call('services.share', { port: dev.port, name: 'carols' })
  await waitFor(async () => (await bob.client.call('services.list')).services.some(s => s.name === 'carols' && s.online), 'bob to see carol\'s service')
  const { forward } = await bob.client.call('forwards.open', { peer: 'carol', service: 'carols' })
  const events = collectEvents(bob.info, ['service.removed', 'forward.closed'])
  try {
    await carol.client.call('mesh.leave')
    await waitFor(async () => !(await bob.client.call('services.list')).services.some(s => s.name === 'carols'), 'carol\'s service to disappear from bob\'s list')
    await waitFor(() => events.events.some(e => e.event === 'forward.closed' && (e.data as { forward: { id: string } }).forward.id === forward.id), 'bob\'s forward to carol to close')
    assert.ok(events.events.some(e => e.event === 'service.removed'))
  } finally { events.close() }
  // alice (web) going offline is different: listed, offline (covered by the restart test's wait for online again)
})
