// The bare baseline for the API round trip: a Node ROUTER in its own process that parses each
// JSON request and answers with a JSON reply of a fixed size (the size of MeshLink's node.status
// reply), so the comparison isolates what MeshLink adds on top of ZeroMQ + JSON.
// Usage: zmq-echo-router.ts <endpoint> <replyBytes>; prints {"bound": endpoint} once listening.
import { Router } from 'zeromq'
import { exitWithParent } from '../lib/exit-with-parent.ts'

const [endpoint, replyBytesArg] = process.argv.slice(2)
const replyBytes = Number(replyBytesArg)
if (!endpoint || !Number.isInteger(replyBytes) || replyBytes < 32) {
  process.stderr.write('usage: zmq-echo-router.ts <endpoint> <replyBytes>=32+\n')
  process.exit(2)
}

const sock = new Router({ sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000, linger: 0 })
await sock.bind(endpoint)
exitWithParent(() => sock.close())
const padding = 'x'.repeat(replyBytes)

/** A reply shaped like the real envelope, padded to exactly `replyBytes` (ids vary in length). */
function reply (id: unknown): string {
  const bare = JSON.stringify({ v: 1, id, result: { pad: '' } })
  return JSON.stringify({ v: 1, id, result: { pad: padding.slice(0, Math.max(0, replyBytes - bare.length)) } })
}

console.log(JSON.stringify({ bound: endpoint, replyBytes }))
try {
  for await (const [routingId, msg] of sock) {
    const req = JSON.parse(msg.toString('utf8')) as { id?: unknown }
    await sock.send([routingId, reply(req.id ?? null)])
  }
} catch (err) {
  if (!sock.closed) throw err
}
