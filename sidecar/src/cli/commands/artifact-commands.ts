import { resolve } from 'node:path'
import { withClient } from './with-client.ts'
import { table } from '../format.ts'
import { UsageError } from '../exit-codes.ts'
import { CLIENT_OPTIONS, type Command } from '../command.ts'
import { MeshlinkError, type MeshlinkClient } from '../../client/client.ts'
import type { StoreStatus, Transfer } from '../../gen/protocol-types.ts'
import { parseByteQuantity } from '../quantity.ts'
import { waitingFor } from '../../client/transfer-view.ts'

const POLL_MS = 250

export function bytes (n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++ }
  return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`
}

/**
 * One line: `[#####-----]  42%  120.0 MiB/285.3 MiB  38.2 MiB/s  ETA 4s  3 peers`. A fetch where nothing
 * arrived for 2 s (the sidecar then reads its rate as 0) names the holders it waits for instead:
 * `…  0 B/s  waiting for bob`.
 */
export function progressLine (t: Transfer, width = 24): string {
  const f = t.bytesTotal > 0 ? Math.min(1, t.bytesDone / t.bytesTotal) : 0
  const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '-')
  const active = t.peers.filter(p => p.state === 'active').length
  const waiting = waitingFor(t)
  const eta = t.etaMs === null ? '' : `  ETA ${Math.ceil(t.etaMs / 1000)}s`
  const peers = waiting.length > 0 ? `  waiting for ${waiting.map(p => p.name ?? p.peer.slice(-8)).join(', ')}` : `  ${active} peer${active === 1 ? '' : 's'}`
  return `[${bar}] ${String(Math.floor(f * 100)).padStart(3)}%  ${bytes(t.bytesDone)}/${bytes(t.bytesTotal)}  ${bytes(t.rateBytesPerSec)}/s${eta}${t.kind === 'fetch' ? peers : ''}`
}

/** Polls the transfer until it ends, drawing a progress bar on a terminal's stderr. Ctrl-C cancels it. */
async function follow (c: MeshlinkClient, first: Transfer): Promise<Transfer> {
  const tty = process.stderr.isTTY === true
  let t = first
  let cancelled = false
  const onInt = (): void => {
    if (cancelled) process.exit(130)
    cancelled = true
    void c.call('transfers.cancel', { id: t.id }).catch(() => {})
  }
  process.on('SIGINT', onInt)
  try {
    while (t.state === 'running') {
      if (tty) process.stderr.write(`\r${progressLine(t)}\x1b[K`)
      await new Promise(r => setTimeout(r, POLL_MS))
      const { transfers } = await c.call('transfers.list')
      const now = transfers.find(x => x.id === t.id)
      if (!now) throw new Error(`transfer ${t.id} disappeared`)
      t = now
    }
    if (tty) process.stderr.write(`\r${progressLine(t)}\x1b[K\n`)
  } finally {
    process.off('SIGINT', onInt)
  }
  if (t.state !== 'done') throw new MeshlinkError({ code: t.error?.code === 'NOT_FOUND' || t.error?.code === 'PEER_UNREACHABLE' || t.error?.code === 'CONFLICT' ? t.error.code : 'INTERNAL', message: `${t.kind} ${t.state}: ${t.error?.message ?? ''} [${t.error?.code ?? t.state}]` })
  return t
}

export const publish: Command = {
  name: 'publish',
  summary: 'publish a directory (or file) as an artifact to the mesh',
  usage: 'meshlink publish PATH [--name TAG] [--no-pin] [--json]',
  options: {
    ...CLIENT_OPTIONS,
    name: { type: 'string', help: 'tag that names the newest artifact published under it, e.g. web-dist@main' },
    'no-pin': { type: 'boolean', help: 'let the store evict it when over its size cap (published artifacts are pinned by default)' }
  },
  positionals: { min: 1, max: 1, names: 'PATH' },
  run: (v, [path]) => withClient(v, async (c) => {
    const r = await c.call('artifacts.publish', { path: resolve(path), ...(v.name !== undefined ? { tag: v.name as string } : {}), ...(v['no-pin'] === true ? { pin: false } : {}) })
    const t = await follow(c, r.transfer)
    return { json: { transfer: t }, text: `${t.artifact}${t.tag ? `  ${t.tag}` : ''}  (${bytes(t.bytesTotal)}, ${t.chunksTotal} chunks)` }
  })
}

export const fetch: Command = {
  name: 'fetch',
  summary: 'fetch an artifact (id, id prefix or tag) from the members that hold it',
  usage: 'meshlink fetch ID|TAG --out DIR [--pin] [--max-rate RATE] [--json]',
  options: {
    ...CLIENT_OPTIONS,
    out: { type: 'string', help: 'output directory (must not exist, or be empty)' },
    pin: { type: 'boolean', help: 'keep it in the store whatever the size cap' },
    'max-rate': { type: 'string', help: 'download cap in bytes per second (units allowed: 500k, 20MB, 8MiB)' }
  },
  positionals: { min: 1, max: 1, names: 'ID|TAG' },
  run: (v, [ref]) => withClient(v, async (c) => {
    if (typeof v.out !== 'string') throw new UsageError('--out DIR is required')
    const max = v['max-rate'] !== undefined ? parseByteQuantity(String(v['max-rate']), '--max-rate') : undefined
    const r = await c.call('artifacts.fetch', { artifact: ref, out: resolve(v.out), ...(v.pin === true ? { pin: true } : {}), ...(max !== undefined ? { maxBytesPerSec: max } : {}) })
    const t = await follow(c, r.transfer)
    const from = t.peers.filter(p => p.bytes > 0).map(p => `${p.name ?? p.peer.slice(-8)} ${bytes(p.bytes)}`).join(', ')
    return { json: { transfer: t }, text: `${t.artifact} -> ${t.path}  (${bytes(t.bytesTotal)}; ${bytes(t.bytesFromPeers)} from ${from || 'no peer: all chunks were here'})` }
  })
}

export const artifacts: Command = {
  name: 'artifacts',
  summary: "list this node's and the mesh's artifacts",
  usage: 'meshlink artifacts [--json]',
  options: CLIENT_OPTIONS,
  run: (v) => withClient(v, async (c) => {
    const r = await c.call('artifacts.list')
    const rows = r.artifacts.map(a => [a.id.slice(0, 16), a.tag ?? '', bytes(a.size), String(a.files),
      a.mine ? 'published here' : a.complete ? 'here' : a.local ? 'partial' : '', a.holders.map(h => `${h.name ?? h.peer.slice(-8)}${h.complete ? '' : ' (partial)'}`).join(', '), a.createdAt.slice(0, 19).replace('T', ' ')])
    return { json: r, text: rows.length ? table(['ID', 'TAG', 'SIZE', 'FILES', 'LOCAL', 'HOLDERS', 'CREATED'], rows) : 'no artifacts yet: publish one with `meshlink publish PATH`' }
  })
}

function pinCommand (pinned: boolean): Command {
  return {
    name: pinned ? 'pin' : 'unpin',
    summary: pinned ? 'keep a local artifact in the store whatever its size cap' : 'let the store evict a local artifact again (least recently used first)',
    usage: `meshlink ${pinned ? 'pin' : 'unpin'} ID|TAG [--json]`,
    options: CLIENT_OPTIONS,
    positionals: { min: 1, max: 1, names: 'ID|TAG' },
    run: (v, [ref]) => withClient(v, async (c) => {
      const r = await c.call('artifacts.pin', { artifact: ref, pinned })
      return { json: r, text: `${r.artifact.id}${r.artifact.tag ? `  ${r.artifact.tag}` : ''}  ${pinned ? 'pinned' : 'unpinned'}` }
    })
  }
}
export const pin = pinCommand(true)
export const unpin = pinCommand(false)

const storeLine = (r: StoreStatus): string =>
  `${r.dir}: ${bytes(r.bytes)} of ${bytes(r.capBytes)} in ${r.chunks} chunks, ${r.artifacts} artifact(s); upload cap ${r.maxUploadBytesPerSec === null ? 'none' : bytes(r.maxUploadBytesPerSec) + '/s'}`

export const store: Command = {
  name: 'store',
  summary: 'artifact store: `store status`, `store verify` (hash every chunk), `store rm ID|TAG`, `store set --cap SIZE --max-upload RATE|none`',
  usage: 'meshlink store status|verify|rm|set [ID|TAG] [--cap SIZE] [--max-upload RATE|none] [--json]',
  options: {
    ...CLIENT_OPTIONS,
    cap: { type: 'string', help: 'store set: size cap (e.g. 20GB, 512MiB); a lower cap evicts unpinned artifacts now' },
    'max-upload': { type: 'string', help: 'store set: cap on bytes/s served to members (e.g. 10MB), or "none"' }
  },
  positionals: { min: 1, max: 2, names: 'status|verify|rm|set' },
  run: (v, [sub, ref]) => withClient(v, async (c) => {
    if (sub !== 'set' && (v.cap !== undefined || v['max-upload'] !== undefined)) throw new UsageError('--cap and --max-upload go with `store set`')
    if (sub === 'status') {
      const r = await c.call('store.status')
      return { json: r, text: storeLine(r) }
    }
    if (sub === 'set') {
      if (v.cap === undefined && v['max-upload'] === undefined) throw new UsageError('store set needs --cap SIZE and/or --max-upload RATE|none')
      const up = v['max-upload'] === undefined ? undefined : String(v['max-upload']).toLowerCase() === 'none' ? 0 : parseByteQuantity(String(v['max-upload']), '--max-upload')
      const r = await c.call('store.configure', {
        ...(v.cap !== undefined ? { capBytes: parseByteQuantity(String(v.cap), '--cap') } : {}),
        ...(up !== undefined ? { maxUploadBytesPerSec: up } : {})
      })
      return { json: r, text: storeLine(r) }
    }
    if (sub === 'verify') {
      const r = await c.call('store.verify')
      const bad = r.corrupt.length ? `\n${r.corrupt.length} corrupt chunk(s) deleted (they will be fetched again): ${r.corrupt.map(h => h.slice(0, 12)).join(', ')}` : ''
      const inc = r.incomplete.length ? `\nincomplete artifacts: ${r.incomplete.map(h => h.slice(0, 16)).join(', ')}` : ''
      return { json: r, text: `${r.chunks} chunks (${bytes(r.bytes)}) intact${bad}${inc}` }
    }
    if (sub === 'rm') {
      if (ref === undefined) throw new UsageError('store rm needs an artifact id or tag')
      const r = await c.call('artifacts.remove', { artifact: ref })
      return { json: r, text: `removed ${r.artifact.id}` }
    }
    throw new UsageError(`unknown store command "${sub}" (status, verify, rm or set)`)
  })
}
