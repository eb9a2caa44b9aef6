// A reference for bench:forward, not a product part: the cheapest TCP forwarder Node can be. It
// accepts on 127.0.0.1:LISTEN and joins each connection to a new connection to 127.0.0.1:TARGET with
// pipe() both ways: no encryption, no multiplexing, no access checks. Two of these in a chain
// (guest -> host -> server) have the same process and socket layout as two sidecars or ssh -> sshd,
// so their CPU per request is the floor for any forwarder written on Node's net module.
//   node bench/forward/node-relay.ts LISTEN_PORT TARGET_PORT   (LISTEN_PORT 0: any; prints {"port":N})
import { createServer, connect } from 'node:net'

const [listenArg, targetArg] = process.argv.slice(2)
const target = Number(targetArg)
if (!Number.isInteger(target) || target < 1 || target > 65535 || !/^\d+$/.test(listenArg ?? '')) {
  process.stderr.write('usage: node-relay.ts LISTEN_PORT TARGET_PORT\n')
  process.exit(2)
}
const server = createServer({ noDelay: true }, (client) => {
  const upstream = connect({ host: '127.0.0.1', port: target, noDelay: true })
  client.pipe(upstream)
  upstream.pipe(client)
  const close = (): void => { client.destroy(); upstream.destroy() }
  client.on('error', close)
  upstream.on('error', close)
})
server.listen(Number(listenArg), '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : null }) + '\n')
})
