// The Artifacts view's rows, built from the artifacts model's state: two groups ("Published here",
// "In the mesh"), each artifact with its size, files and holders online, and the running publish
// or fetch on it; plus the texts a person reads while a transfer runs (progress, failures).
import type { Artifact, Peer, Transfer } from '../../../sidecar/src/gen/protocol-types.ts'
import { waitingFor } from '../../../sidecar/src/client/transfer-view.ts'
import type { Translate } from '../l10n.ts'
import { ago, shortPeerId } from './mesh-model.ts'
import { bytes } from './services-rows.ts'

export type TransferErrorCode = NonNullable<Transfer['error']>['code']

/** One artifact (or a publish still reading its tree, which has no artifact id yet). */
export interface ArtifactRow {
  kind: 'artifact'
  /** The artifact id, or `transfer:<id>` for a publish that has none yet. */
  id: string
  /** The tag, else the short id. */
  label: string
  description: string
  /** Markdown. */
  tooltip: string
  /** `meshlink.artifact.{mine|theirs}[.local][.busy]`: menus match on it. */
  contextValue: string
  icon: 'mine' | 'here' | 'available' | 'unavailable' | 'busy'
  /** undefined for a publish still reading its tree. */
  artifact: Artifact | undefined
  /** The publish or fetch running on it, if any. */
  transfer: Transfer | undefined
  /** Connected members that hold all of it. */
  holdersOnline: number
}

export interface ArtifactGroupRow {
  kind: 'group'
  id: 'mine' | 'mesh'
  label: string
  description: string
  contextValue: 'meshlink.artifacts.mine' | 'meshlink.artifacts.mesh'
  artifacts: ArtifactRow[]
}

export type ArtifactsTreeRow = ArtifactGroupRow | ArtifactRow

/** What the rows are built from (an ArtifactsModel). */
export interface ArtifactsState {
  readonly all: readonly Artifact[]
  readonly running: readonly Transfer[]
}

const mdEscape = (s: string): string => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')

export const shortArtifactId = (id: string): string => id.slice(0, 12)

/** "12 s", "3 min", "2 h". */
export function duration (ms: number, t: Translate): string {
  const s = Math.max(1, Math.round(ms / 1000))
  if (s < 90) return t('{0} s', s)
  const min = Math.round(s / 60)
  if (min < 90) return t('{0} min', min)
  return t('{0} h', (min / 60).toFixed(1))
}

/** The line under a running transfer's notification: "42% of 12 MB · 11 MB/s · 8 s left · from bob, carol". */
export function progressText (tr: Transfer, t: Translate, nameOf: (id: string, fallback: string | null) => string = (id, n) => n ?? shortPeerId(id)): string {
  if (tr.kind === 'publish' && tr.bytesTotal === 0) return t('Reading the folder…')
  const pct = tr.bytesTotal > 0 ? Math.floor((tr.bytesDone / tr.bytesTotal) * 100) : 0
  const parts = [t('{0}% of {1}', pct, bytes(tr.bytesTotal, t))]
  if (tr.rateBytesPerSec > 0) parts.push(t('{0}/s', bytes(tr.rateBytesPerSec, t)))
  if (tr.etaMs !== null && tr.etaMs > 0 && tr.bytesDone < tr.bytesTotal) parts.push(t('{0} left', duration(tr.etaMs, t)))
  if (tr.kind === 'fetch') {
    // a stalled fetch says whom it waits for instead of where the bytes came from
    const waiting = waitingFor(tr)
    const active = tr.peers.filter(p => p.state === 'active' || p.chunks > 0)
    if (waiting.length > 0) parts.push(t('waiting for {0}', waiting.map(p => nameOf(p.peer, p.name)).join(', ')))
    else if (active.length > 0) parts.push(t('from {0}', active.map(p => nameOf(p.peer, p.name)).join(', ')))
    else if (tr.bytesDone < tr.bytesTotal) parts.push(t('looking for holders'))
  }
  return parts.join(' · ')
}

/** What a failed transfer's code means for the person, for a publish or a fetch into `path`. */
export function transferFailureText (code: TransferErrorCode, kind: Transfer['kind'], t: Translate): string {
  switch (code) {
    case 'NOT_FOUND': return kind === 'publish'
      ? t('the folder is gone')
      : t('no connected member has this artifact (any more)')
    case 'PEER_UNREACHABLE': return t('the members that hold it are offline or cannot be reached; fetch again when one is back (what arrived is kept)')
    case 'UNSAFE_MANIFEST': return t('refused: its file list has absolute paths, ".." or links that point outside the folder; nothing was written')
    case 'NO_SPACE': return kind === 'publish'
      ? t('the disk is full')
      : t('the disk is full; nothing was left in the destination folder. Free some space and fetch again (what arrived is kept)')
    case 'CONFLICT': return kind === 'publish'
      ? t('another transfer is using it')
      : t('the destination folder is not empty (or another fetch writes there)')
    case 'IO_ERROR': return kind === 'publish' ? t('a file could not be read') : t('a file could not be written')
    case 'CANCELLED': return t('cancelled')
    case 'INTERNAL': return t('the MeshLink sidecar failed')
  }
}

function holdersText (a: Artifact, t: Translate): string {
  const whole = a.holders.filter(h => h.complete).length
  const partial = a.holders.length - whole
  const parts = [whole === 1 ? t('1 holder online') : t('{0} holders online', whole)]
  if (partial > 0) parts.push(t('{0} fetching', partial))
  return parts.join(', ')
}

function artifactRow (a: Artifact, transfer: Transfer | undefined, t: Translate, sameTag: number, nameOf: (id: string, fallback: string | null) => string, now: number): ArtifactRow {
  const label = a.tag ?? shortArtifactId(a.id)
  const files = a.files === 1 ? t('1 file') : t('{0} files', a.files)
  const holdersOnline = a.holders.filter(h => h.complete).length
  const parts = [bytes(a.size, t), files]
  // several builds under one tag: tell them apart
  if (a.tag !== null && sameTag > 1) parts.unshift(shortArtifactId(a.id))
  if (transfer) {
    const pct = transfer.bytesTotal > 0 ? Math.floor((transfer.bytesDone / transfer.bytesTotal) * 100) : 0
    parts.push(transfer.kind === 'fetch' ? t('fetching {0}%', pct) : t('publishing {0}%', pct))
  } else if (a.mine) {
    parts.push(a.holders.length === 0 ? t('on no other machine yet') : holdersText(a, t))
  } else {
    if (a.local && a.complete) parts.push(t('here'))
    else if (a.local) parts.push(t('partly here'))
    parts.push(holdersText(a, t))
  }
  const lines = [`**${mdEscape(label)}**`, '', `${t('Artifact id')}: \`${a.id}\``, '', `${bytes(a.size, t)} · ${files} · ${t('created {0}', ago(a.createdAt, now, t))}`]
  if (a.mine) lines.push('', t('Published from this machine.'))
  else if (a.local && a.complete) lines.push('', t('Complete on this machine: fetching it again takes no network.'))
  if (a.pinned) lines.push('', t('Pinned: never evicted from this machine\'s store.'))
  if (a.holders.length > 0) lines.push('', `${t('Held by')}: ${a.holders.map(h => mdEscape(nameOf(h.peer, h.name)) + (h.complete ? '' : ` (${t('fetching')})`)).join(', ')}`)
  else if (!a.mine && !(a.local && a.complete)) lines.push('', t('No member that holds it is online.'))
  const available = a.mine || (a.local && a.complete) || holdersOnline > 0 || a.holders.length > 0
  const icon: ArtifactRow['icon'] = transfer ? 'busy' : a.mine ? 'mine' : a.local && a.complete ? 'here' : available ? 'available' : 'unavailable'
  return {
    kind: 'artifact',
    id: a.id,
    label,
    description: parts.join(' · '),
    tooltip: lines.join('\n'),
    contextValue: `meshlink.artifact.${a.mine ? 'mine' : 'theirs'}${a.local ? a.pinned ? '.local.pinned' : '.local' : ''}${transfer ? '.busy' : ''}`,
    icon,
    artifact: a,
    transfer,
    holdersOnline
  }
}

function readingRow (tr: Transfer, t: Translate): ArtifactRow {
  const name = tr.path.split(/[\\/]/).filter(Boolean).pop() ?? tr.path
  return {
    kind: 'artifact',
    id: `transfer:${tr.id}`,
    label: tr.tag ?? name,
    description: progressText(tr, t),
    tooltip: `**${mdEscape(tr.tag ?? name)}**\n\n${t('Publishing {0}…', mdEscape(tr.path))}`,
    contextValue: 'meshlink.artifact.mine.busy',
    icon: 'busy',
    artifact: undefined,
    transfer: tr,
    holdersOnline: 0
  }
}

/** The tree: "Published here" then "In the mesh", newest first; `peers` names holders. */
export function buildRows (m: ArtifactsState, t: Translate, peers: readonly Peer[] = [], now = Date.now()): ArtifactGroupRow[] {
  const names = new Map(peers.map(p => [p.id, p.name]))
  const nameOf = (id: string, fallback: string | null): string => names.get(id) ?? fallback ?? shortPeerId(id)
  const tagCount = new Map<string, number>()
  for (const a of m.all) if (a.tag !== null) tagCount.set(a.tag, (tagCount.get(a.tag) ?? 0) + 1)
  const busy = new Map<string, Transfer>()
  for (const tr of m.running) if (tr.artifact !== null) busy.set(tr.artifact, tr)
  const newest = (a: Artifact, b: Artifact): number => Date.parse(b.createdAt) - Date.parse(a.createdAt) || a.id.localeCompare(b.id)
  const all = [...m.all].sort(newest)
  const mine = all.filter(a => a.mine).map(a => artifactRow(a, busy.get(a.id), t, a.tag !== null ? tagCount.get(a.tag)! : 0, nameOf, now))
  const reading = m.running.filter(tr => tr.kind === 'publish' && (tr.artifact === null || !m.all.some(a => a.id === tr.artifact))).map(tr => readingRow(tr, t))
  const theirs = all.filter(a => !a.mine).map(a => artifactRow(a, busy.get(a.id), t, a.tag !== null ? tagCount.get(a.tag)! : 0, nameOf, now))
  const groups: ArtifactGroupRow[] = []
  const count = (n: number): string => (n === 1 ? t('1 artifact') : t('{0} artifacts', n))
  if (mine.length + reading.length > 0) groups.push({ kind: 'group', id: 'mine', label: t('Published here'), description: count(mine.length), contextValue: 'meshlink.artifacts.mine', artifacts: [...reading, ...mine] })
  if (theirs.length > 0) groups.push({ kind: 'group', id: 'mesh', label: t('In the mesh'), description: count(theirs.length), contextValue: 'meshlink.artifacts.mesh', artifacts: theirs })
  return groups
}

/** A folder name for an artifact's output: its tag (`web-dist@main` → `web-dist@main`, `/` replaced), else its short id. */
export function outputName (a: Pick<Artifact, 'id' | 'tag'>): string {
  return (a.tag ?? `artifact-${shortArtifactId(a.id)}`).replace(/[\\/:*?"<>|]/g, '-')
}

/** A tag suggestion for publishing `folder` (a path) of workspace `workspace` (its name): `app-dist`, or the folder's name. */
export function suggestTag (folder: string, workspace: string | undefined): string {
  const base = folder.split(/[\\/]/).filter(Boolean).pop() ?? ''
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64)
  const generic = /^(dist|build|out|output|target|bin|release|public|lib)$/i.test(base)
  const tag = clean(generic && workspace ? `${workspace}-${base}` : base)
  return TAG_PATTERN.test(tag) ? tag : ''
}

/** schemas/types/artifact-tag.json */
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(@[A-Za-z0-9][A-Za-z0-9._/-]{0,63})?$/

/** Why a typed tag cannot be used; undefined when it can (empty: no tag). */
export function checkTag (s: string, t: Translate): string | undefined {
  const v = s.trim()
  if (v === '' || TAG_PATTERN.test(v)) return undefined
  return t('A tag is a name such as web-dist or web-dist@main: letters, digits, ".", "_" and "-" (up to 64), then optionally "@" and a label.')
}
