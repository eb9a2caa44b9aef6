import { withClient } from './with-client.ts'
import { ago, duration, table } from '../format.ts'
import { UsageError } from '../exit-codes.ts'
import { CLIENT_OPTIONS, type Command } from '../command.ts'

export const status: Command = {
  name: 'status',
  summary: 'show this node: id, name, mesh, addresses, uptime',
  usage: 'meshlink status [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const s = await c.call('node.status')
    const text = [
      `name:      ${s.name}`,
      `peer id:   ${s.peerId}`,
      `mesh:      ${s.mesh.name} (${s.mesh.id}${s.mesh.personal ? ', personal' : ''})`,
      `peers:     ${s.peersConnected} connected`,
      `mDNS:      ${s.mdns ? 'on' : 'off'}`,
      `listening: ${s.listenAddrs.join('\n           ') || '(nothing)'}`,
      ...(s.observedAddrs.length ? [`observed:  ${s.observedAddrs.join('\n           ')}`] : []),
      `version:   ${s.version} (protocol v${s.protocolVersion}), pid ${s.pid}, up ${duration(s.uptimeMs)}`,
      `state dir: ${s.stateDir}`
    ].join('\n')
    return { json: s, text }
  })
}

export const peers: Command = {
  name: 'peers',
  summary: 'list the members of the mesh',
  usage: 'meshlink peers [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const r = await c.call('peers.list')
    const rows = r.peers.map(p => [
      p.name ?? '?', p.id, p.connected ? 'online' : 'offline', p.connection ?? '-',
      p.rttMs === null ? '-' : `${p.rttMs.toFixed(1)} ms`, p.connected ? 'now' : ago(p.lastSeen)
    ])
    return { json: r, text: rows.length ? table(['NAME', 'PEER ID', 'STATUS', 'LINK', 'RTT', 'LAST SEEN'], rows) : 'no members yet: share `meshlink invite` with a teammate' }
  })
}

export const invite: Command = {
  name: 'invite',
  summary: 'print an invite code for this mesh',
  usage: 'meshlink invite [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const r = await c.call('mesh.invite')
    return { json: r, text: r.code }
  })
}

export const join: Command = {
  name: 'join',
  summary: 'join the mesh of an invite code and dial the inviter',
  usage: 'meshlink join CODE [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1, names: 'CODE' },
  run: (v, [code]) => withClient(v, async (c) => {
    const r = await c.call('mesh.join', { code })
    const text = r.connected
      ? `joined mesh "${r.mesh.name}" (${r.mesh.id}); connected to ${r.inviter}`
      : `joined mesh "${r.mesh.name}" (${r.mesh.id}); the inviter ${r.inviter} did not answer yet (${r.error ?? 'unknown'}); will keep trying`
    return { json: r, text }
  })
}

export const leave: Command = {
  name: 'leave',
  summary: 'leave the mesh and start a new personal one',
  usage: 'meshlink leave [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const r = await c.call('mesh.leave')
    return { json: r, text: `left mesh "${r.left.name}"; now in personal mesh "${r.mesh.name}"` }
  })
}

export const create: Command = {
  name: 'create',
  summary: 'create a new mesh (with a fresh secret) and switch to it',
  usage: 'meshlink create [NAME] [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 1, names: '[NAME]' },
  run: (v, [name]) => withClient(v, async (c) => {
    const r = await c.call('mesh.create', name === undefined ? {} : { name })
    return { json: r, text: `created mesh "${r.mesh.name}" (${r.mesh.id}); invite teammates with \`meshlink invite\`` }
  })
}

export const name: Command = {
  name: 'name',
  summary: 'show or set the display name',
  usage: 'meshlink name [NEW_NAME] [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 1, names: '[NEW_NAME]' },
  run: (v, [newName]) => withClient(v, async (c) => {
    if (newName === undefined) {
      const s = await c.call('node.status')
      return { json: { name: s.name }, text: s.name }
    }
    const r = await c.call('node.setName', { name: newName })
    return { json: r, text: `display name set to "${r.name}"` }
  })
}

export const ping: Command = {
  name: 'ping',
  summary: 'measure the round trip to a member (peer id or display name)',
  usage: 'meshlink ping PEER [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1, names: 'PEER' },
  run: (v, [who]) => withClient(v, async (c) => {
    const { peers } = await c.call('peers.list')
    const matches = peers.filter(p => p.id === who || p.name === who)
    if (matches.length > 1) throw new UsageError(`"${who}" names ${matches.length} members; use a peer id`)
    const r = await c.call('peers.ping', { peer: matches[0]?.id ?? who })
    return { json: r, text: `${who}: ${r.rttMs.toFixed(2)} ms` }
  })
}

export const stop: Command = {
  name: 'stop',
  summary: 'stop the running sidecar',
  usage: 'meshlink stop [--json] [--state DIR]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => ({ json: await c.call('node.shutdown'), text: 'sidecar stopping' }))
}
