import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeAddress, listeningPorts, loopbackFor, parseProcNetTcp, programName } from './listening-ports.ts'

const HEAD4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const HEAD6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const row = (i: number, local: string, st: string, inode: number, remote = '00000000:0000'): string =>
  `   ${i}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`

const TCP = HEAD4 +
  row(0, '0100007F:0BB8', '0A', 101) + // 127.0.0.1:3000 LISTEN
  row(1, '00000000:1F90', '0A', 102) + // 0.0.0.0:8080 LISTEN
  row(2, '0701A8C0:1388', '0A', 103) + // 192.168.1.7:5000 LISTEN: not at loopback
  row(3, '0100007F:0BB8', '01', 104, '0100007F:D431') + // an established connection to 3000
  row(4, '0200007F:0035', '0A', 105) // 127.0.0.2:53
const TCP6 = HEAD6 +
  row(0, '00000000000000000000000001000000:1435', '0A', 201) + // [::1]:5173 (vite on localhost)
  row(1, '00000000000000000000000000000000:1F90', '0A', 202) + // [::]:8080
  row(2, '0000000000000000FFFF00000100007F:0FA0', '0A', 203) + // [::ffff:127.0.0.1]:4000
  row(3, 'B80D0120000000000000000001000000:0050', '0A', 204) // [2001:db8::1]:80: not at loopback

test('addresses are decoded word by word, little-endian', () => {
  assert.equal(decodeAddress('0100007F'), '127.0.0.1')
  assert.equal(decodeAddress('0701A8C0'), '192.168.1.7')
  assert.equal(decodeAddress('00000000000000000000000001000000'), '::1')
  assert.equal(decodeAddress('00000000000000000000000000000000'), '::')
  assert.equal(decodeAddress('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1')
  assert.equal(decodeAddress('B80D0120000000000000000001000000'), '2001:db8::1')
})

test('only LISTEN sockets reachable at loopback, with the address the sidecar should connect to', () => {
  assert.deepEqual(parseProcNetTcp(TCP).map(p => [p.port, p.address, p.host]), [[3000, '127.0.0.1', '127.0.0.1'], [8080, '0.0.0.0', '127.0.0.1'], [53, '127.0.0.2', '127.0.0.2']])
  assert.deepEqual(parseProcNetTcp(TCP6).map(p => [p.port, p.address, p.host]), [[5173, '::1', '::1'], [8080, '::', '::1'], [4000, '::ffff:127.0.0.1', '127.0.0.1']])
  assert.deepEqual(parseProcNetTcp(''), [])
  assert.deepEqual(parseProcNetTcp(HEAD4 + 'garbage line\n'), [])
  assert.equal(loopbackFor('0.0.0.0'), '127.0.0.1')
})

test('program names: the script for interpreters, the executable otherwise', () => {
  assert.equal(programName(['node', '/x/node_modules/.bin/vite', '--port', '5173']), 'node vite')
  assert.equal(programName(['/usr/bin/python3', '-m', 'http.server']), 'python3 http.server')
  assert.equal(programName(['/usr/sbin/nginx', '-g', 'daemon off;']), 'nginx')
  assert.equal(programName(['nginx: worker process']), 'nginx')
  assert.equal(programName([]), undefined)
})

test('listeningPorts: one entry per port (IPv4 preferred), owners from /proc/<pid>/fd, sorted', async () => {
  const proc = mkdtempSync(join(tmpdir(), 'ml-proc-'))
  try {
    mkdirSync(join(proc, 'net'))
    writeFileSync(join(proc, 'net', 'tcp'), TCP)
    writeFileSync(join(proc, 'net', 'tcp6'), TCP6)
    mkdirSync(join(proc, '42', 'fd'), { recursive: true })
    writeFileSync(join(proc, '42', 'cmdline'), 'node\0/srv/app/node_modules/.bin/vite\0--host\0')
    symlinkSync('socket:[201]', join(proc, '42', 'fd', '3'))
    symlinkSync('/dev/null', join(proc, '42', 'fd', '0'))
    mkdirSync(join(proc, '43', 'fd'), { recursive: true })
    writeFileSync(join(proc, '43', 'cmdline'), '/usr/sbin/nginx\0')
    symlinkSync('socket:[202]', join(proc, '43', 'fd', '7'))
    const r = await listeningPorts({ platform: 'linux', proc })
    assert.equal(r.supported, true)
    assert.deepEqual(r.ports.map(p => [p.port, p.host, p.program]), [[53, '127.0.0.2', undefined], [3000, '127.0.0.1', undefined], [4000, '127.0.0.1', undefined], [5173, '::1', 'node vite'], [8080, '127.0.0.1', 'nginx']])
  } finally {
    rmSync(proc, { recursive: true, force: true })
  }
})

test('listeningPorts: elsewhere, or without /proc, the person types the port', async () => {
  assert.deepEqual(await listeningPorts({ platform: 'darwin' }), { supported: false, ports: [] })
  assert.deepEqual(await listeningPorts({ platform: 'linux', proc: join(tmpdir(), 'ml-no-such-proc') }), { supported: false, ports: [] })
})

test('listeningPorts on this machine finds a server this process listens on', { skip: process.platform !== 'linux' }, async () => {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const r = await listeningPorts()
    const mine = r.ports.find(p => p.port === port)
    assert.ok(mine, `port ${port} is listed`)
    assert.equal(mine.host, '127.0.0.1')
    assert.match(mine.program ?? '', /node/)
  } finally {
    server.close()
  }
})
