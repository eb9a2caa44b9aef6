// Fallback "dev server" for the forward bench when nginx is not available: one Node process
// serving the files of a directory from memory, HTTP/1.1 keep-alive. Prints {"port": N} when
// listening. Usage: node http-server.ts <dir> <port>
import { createServer } from 'node:http'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { exitWithParent } from '../lib/exit-with-parent.ts'

const [dir, port] = [process.argv[2], Number(process.argv[3])]
const files = new Map<string, Buffer>()
for (const f of readdirSync(dir)) files.set('/' + f, readFileSync(join(dir, f)))
const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const body = files.get(req.url ?? '')
  if (!body) { res.writeHead(404).end(); return }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
  res.end(body)
})
server.listen(port, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port }) + '\n'))
exitWithParent(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }), 30 * 60_000)
