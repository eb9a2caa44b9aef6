import { withClient } from './with-client.ts'
import { table } from '../format.ts'
import { UsageError } from '../exit-codes.ts'
import { CLIENT_OPTIONS, type Command } from '../command.ts'
import type { Forward } from '../../gen/protocol-types.ts'

function parsePort (s: string, what: string, allowZero = false): number {
  const n = Number(s)
  if (!/^\d+$/.test(s) || n > 65535 || (n === 0 && !allowZero)) throw new UsageError(`${what} must be a port number (${allowZero ? 0 : 1}-65535), not "${s}"`)
  return n
}

function forwardLine (f: Forward): string {
  return `${f.localAddress}:${f.localPort} -> ${f.peerName ?? f.peer}/${f.service} (id ${f.id})`
}

export const share: Command = {
  name: 'share',
  summary: 'share a local TCP port with the mesh (every member, or only --allow)',
  usage: 'meshlink share PORT [--name NAME] [--allow PEER,...] [--host ADDR] [--json]',
  options: {
    ...CLIENT_OPTIONS,
    name: { type: 'string', help: 'service name (default: the port number)' },
    allow: { type: 'string', multiple: true, help: 'peer ids or display names allowed to connect (comma-separated or repeated; default every member)' },
    host: { type: 'string', help: 'where the service listens on this machine (default 127.0.0.1)' }
  },
  positionals: { min: 1, max: 1, names: 'PORT' },
  run: (v, [port]) => withClient(v, async (c) => {
    const allow = (v.allow as string[] | undefined)?.flatMap(a => a.split(',')).map(a => a.trim()).filter(Boolean)
    if (allow !== undefined && allow.length === 0) throw new UsageError('--allow needs at least one peer')
    const r = await c.call('services.share', {
      port: parsePort(port, 'PORT'),
      ...(v.name !== undefined ? { name: v.name as string } : {}),
      ...(allow !== undefined ? { allow: allow as [string, ...string[]] } : {}),
      ...(v.host !== undefined ? { host: v.host as string } : {})
    })
    const who = r.service.allow === null ? 'every member' : `${r.service.allow.length} member(s)`
    return { json: r, text: `sharing "${r.service.name}" (${r.service.target}) with ${who}` }
  })
}

export const unshare: Command = {
  name: 'unshare',
  summary: 'stop sharing a service',
  usage: 'meshlink unshare NAME [--json]',
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1, names: 'NAME' },
  run: (v, [name]) => withClient(v, async (c) => {
    const r = await c.call('services.unshare', { name })
    return { json: r, text: `stopped sharing "${r.service.name}"` }
  })
}

export const services: Command = {
  name: 'services',
  summary: "list this node's and the mesh's services",
  usage: 'meshlink services [--json]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const r = await c.call('services.list')
    const rows = r.services.map(s => [
      s.mine ? `${s.hostName ?? 'this node'} (me)` : (s.hostName ?? s.host.slice(0, 16) + '…'), s.name, String(s.port),
      s.allow === null ? 'everyone' : `${s.allow.length} allowed`, s.online ? 'online' : 'offline', s.mine ? (s.target ?? '') : ''
    ])
    return { json: r, text: rows.length ? table(['HOST', 'NAME', 'PORT', 'ACCESS', 'STATUS', 'TARGET'], rows) : 'no services yet: share one with `meshlink share PORT`' }
  })
}

export const open: Command = {
  name: 'open',
  summary: "open a local port that forwards to a member's service",
  usage: 'meshlink open PEER/NAME [--port N] [--address ADDR] [--json]',
  options: {
    ...CLIENT_OPTIONS,
    port: { type: 'string', help: "local port (default the service's port when free, else any; 0 = any)" },
    address: { type: 'string', help: 'local address to listen on (default 127.0.0.1; anything else exposes the forward)' }
  },
  positionals: { min: 1, max: 1, names: 'PEER/NAME' },
  run: (v, [target]) => withClient(v, async (c) => {
    const i = target.lastIndexOf('/')
    if (i <= 0 || i === target.length - 1) throw new UsageError(`"${target}" is not PEER/NAME (e.g. alice/web)`)
    const r = await c.call('forwards.open', {
      peer: target.slice(0, i),
      service: target.slice(i + 1),
      ...(v.port !== undefined ? { port: parsePort(v.port as string, '--port', true) } : {}),
      ...(v.address !== undefined ? { address: v.address as string } : {})
    })
    return { json: r, text: `${forwardLine(r.forward)}\nopen http://${r.forward.localAddress}:${r.forward.localPort}/ for web services; \`meshlink close ${r.forward.id}\` to stop` }
  })
}

export const close: Command = {
  name: 'close',
  summary: 'close a forward (by id, or PEER/NAME)',
  usage: 'meshlink close ID|PEER/NAME [--json]',
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1, names: 'ID|PEER/NAME' },
  run: (v, [which]) => withClient(v, async (c) => {
    let id = which
    if (!/^[0-9a-f]{12}$/.test(which)) {
      const { forwards } = await c.call('forwards.list')
      const i = which.lastIndexOf('/')
      const matches = forwards.filter(f => i > 0 && (f.peer === which.slice(0, i) || f.peerName === which.slice(0, i)) && f.service === which.slice(i + 1))
      if (matches.length === 0) throw new UsageError(`no forward matches "${which}" (see \`meshlink forwards\`)`)
      if (matches.length > 1) throw new UsageError(`"${which}" matches ${matches.length} forwards; use an id`)
      id = matches[0].id
    }
    const r = await c.call('forwards.close', { id })
    return { json: r, text: `closed ${forwardLine(r.forward)}` }
  })
}

export const forwards: Command = {
  name: 'forwards',
  summary: 'list open forwards with their traffic',
  usage: 'meshlink forwards [--json]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const r = await c.call('forwards.list')
    const rows = r.forwards.map(f => [f.id, `${f.localAddress}:${f.localPort}`, `${f.peerName ?? f.peer}/${f.service}`, String(f.connections), String(f.totalConnections), String(f.bytesIn), String(f.bytesOut)])
    return { json: r, text: rows.length ? table(['ID', 'LOCAL', 'SERVICE', 'OPEN', 'TOTAL', 'BYTES IN', 'BYTES OUT'], rows) : 'no forwards: open one with `meshlink open PEER/NAME`' }
  })
}
