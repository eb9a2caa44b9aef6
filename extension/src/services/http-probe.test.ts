import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createHttp } from 'node:http'
import { createServer as createTcp, type Server, type Socket } from 'node:net'
import { classify, probeService } from './http-probe.ts'

async function listen (server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

test('classify', () => {
  assert.deepEqual(classify(Buffer.from('HTTP/1.1 404 Not Found\r\nx: y')), { kind: 'http', detail: 'HTTP/1.1 404 Not Found' })
  assert.equal(classify(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])).kind, 'https')
  assert.equal(classify(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')).kind, 'tcp')
})

test('an HTTP server is HTTP (any status); it sees one HEAD request', async () => {
  const seen: string[] = []
  const server = createHttp((req, res) => { seen.push(`${req.method} ${req.url}`); res.writeHead(404).end() })
  const port = await listen(server)
  try {
    const r = await probeService('127.0.0.1', port)
    assert.deepEqual(r, { kind: 'http', detail: 'HTTP/1.1 404 Not Found', closedEarly: false })
    assert.deepEqual(seen, ['HEAD /'])
  } finally { server.close() }
})

test('a TLS server is HTTPS; a server that greets first is TCP; silence times out as TCP', async () => {
  const socks = new Set<Socket>()
  const tls = createTcp(s => { socks.add(s); s.once('data', () => s.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))) })
  const ssh = createTcp(s => { socks.add(s); s.write('SSH-2.0-OpenSSH_9.6\r\n') })
  const silent = createTcp(s => { socks.add(s) })
  try {
    assert.equal((await probeService('127.0.0.1', await listen(tls))).kind, 'https')
    assert.equal((await probeService('127.0.0.1', await listen(ssh))).kind, 'tcp')
    const t0 = Date.now()
    const r = await probeService('127.0.0.1', await listen(silent), { timeoutMs: 300 })
    assert.deepEqual(r, { kind: 'tcp', detail: 'no answer in 300 ms', closedEarly: false })
    assert.ok(Date.now() - t0 < 2000)
  } finally {
    for (const s of socks) s.destroy()
    tls.close(); ssh.close(); silent.close()
  }
})

test('a connection closed at once (a forward that cannot reach its service) is reported as such', async () => {
  const closer = createTcp(s => s.destroy())
  const port = await listen(closer)
  try {
    const r = await probeService('127.0.0.1', port)
    assert.equal(r.closedEarly, true)
  } finally { closer.close() }
  const refused = await probeService('127.0.0.1', port)
  assert.equal(refused.closedEarly, true)
  assert.match(refused.detail, /ECONNREFUSED/)
})
