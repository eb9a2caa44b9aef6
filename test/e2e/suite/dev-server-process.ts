// A dev server in its own process (`node dev-server.cjs`), as a person's would be: what the
// Share Port picker lists and names. It serves test/helpers/servers.ts's deterministic bodies
// (the same pattern function, passed as source) so fetches through a forward can be checked.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { patternChunk } from '../../helpers/servers.ts'

export interface DevServerProcess {
  port: number
  pid: number
  stop(): Promise<void>
}

const script = (): string => `'use strict'
const http = require('node:http')
const pattern = (${patternChunk.toString()})
const server = http.createServer((req, res) => {
  const url = new URL(req.url || '/', 'http://x')
  if (url.pathname === '/bytes') {
    const n = Number(url.searchParams.get('n') || '0')
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) })
    let off = 0
    const pump = () => {
      while (off < n) {
        const c = pattern(off, Math.min(256 * 1024, n - off))
        off += c.length
        if (!res.write(c)) { res.once('drain', pump); return }
      }
      res.end()
    }
    pump()
  } else if (url.pathname === '/echo') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    req.pipe(res)
  } else {
    const body = 'hello from ' + url.pathname
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) })
    res.end(body)
  }
})
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

export async function startDevServerProcess (): Promise<DevServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ml-e2e-devserver-'))
  const file = join(dir, 'dev-server.cjs')
  writeFileSync(file, script())
  const child = spawn(process.execPath, [file], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] })
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    const t = setTimeout(() => reject(new Error('the dev server did not start in 10 s')), 10_000)
    rl.once('line', (l) => { clearTimeout(t); rl.close(); resolve(l) })
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`the dev server exited (${code})`)) })
  })
  const { port } = JSON.parse(first) as { port: number }
  return {
    port,
    pid: child.pid!,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(t)
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
