// The Artifacts view's commands (Publish Folder…, Fetch…, Remove, Pin, Unpin, Copy Artifact Id, Cancel) and
// how a transfer is followed: artifacts.publish/fetch answer at once with a transfer, and a
// cancellable notification shows its transfer.progress (percent, rate, ETA, peers) until
// transfer.done or transfer.failed. Like commands.ts: each command takes optional arguments (a view
// row, an Artifact, an id, an object) so tests, keybindings and other extensions can run it
// without the prompts, and returns what it did or undefined.
import { existsSync } from 'node:fs'
import { basename, isAbsolute, join } from 'node:path'
import * as vscode from 'vscode'
import type { MeshlinkClient } from '../../../sidecar/src/client/client.ts'
import type { Artifact, Transfer } from '../../../sidecar/src/gen/protocol-types.ts'
import type { CommandRunner } from '../command-runner.ts'
import { InputError, TransferFailedError } from '../error-messages.ts'
import type { Notifier } from '../notify.ts'
import type { ArtifactsModel } from '../views/artifacts-model.ts'
import { checkTag, outputName, progressText, shortArtifactId, suggestTag } from '../views/artifacts-rows.ts'
import type { MeshModel } from '../views/mesh-model.ts'
import { bytes } from '../views/services-rows.ts'
import { outputDir } from './destination.ts'

export const ARTIFACT_COMMANDS = {
  publish: 'meshlink.publishArtifact',
  fetch: 'meshlink.fetchArtifact',
  remove: 'meshlink.removeArtifact',
  pin: 'meshlink.pinArtifact',
  unpin: 'meshlink.unpinArtifact',
  copyId: 'meshlink.copyArtifactId',
  cancel: 'meshlink.cancelTransfer',
  refresh: 'meshlink.refreshArtifacts'
} as const

export interface ArtifactCommandDeps {
  runner: CommandRunner
  model: MeshModel
  artifacts: ArtifactsModel
  notify: Notifier
  log: vscode.LogOutputChannel
  /** Fetches everything (node.status, peers, services, artifacts) into the models. */
  refresh(): Promise<void>
}

/** What Publish Folder… and Fetch… return once their transfer finished. */
export interface TransferResult {
  transfer: Transfer
  artifact: Artifact
}

const t = vscode.l10n.t
/** Without news of a transfer for this long, ask transfers.list (an event may have been missed). */
const POLL_MS = 2000

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/** An artifact reference from a view row, an Artifact, or an id/prefix/tag string. */
function artifactRefOf (arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg
  if (!isObj(arg)) return undefined
  if (arg.kind === 'artifact' && isObj(arg.artifact)) return String(arg.artifact.id)
  if (typeof arg.artifact === 'string') return arg.artifact
  if (typeof arg.id === 'string' && typeof arg.size === 'number') return arg.id
  return undefined
}

/** A path from a Uri (the explorer's context menu passes one), a string, or { path }. */
function pathOf (arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined
  if (typeof arg === 'string') return arg
  if (isObj(arg) && typeof arg.path === 'string' && arg.kind === undefined) return arg.path
  if (isObj(arg) && isObj(arg.out) && arg.out instanceof vscode.Uri) return arg.out.fsPath
  return undefined
}

export function registerArtifactCommands (d: ArtifactCommandDeps): vscode.Disposable[] {
  const { runner, artifacts, notify, model } = d
  const nameOf = (id: string, fallback: string | null): string => model.peers.find(p => p.id === id)?.name ?? fallback ?? id
  const labelOf = (a: Pick<Artifact, 'id' | 'tag'>): string => a.tag ?? shortArtifactId(a.id)

  /**
   * Shows a transfer until it ends: a cancellable notification with percent, rate, ETA and peers.
   * Resolves with the finished transfer (any state) and the artifact a done one produced.
   */
  function follow (c: MeshlinkClient, started: Transfer, title: string): Thenable<{ transfer: Transfer, artifact: Artifact | undefined }> {
    const id = started.id
    artifacts.track(started)
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => new Promise((resolve) => {
      const generation = artifacts.generation
      let shownPct = 0
      let lastNews = Date.now()
      let lastDone = -1
      let settled = false
      const finish = (tr: Transfer): void => {
        if (settled) return
        settled = true
        sub.dispose()
        cancelSub.dispose()
        clearInterval(timer)
        resolve({ transfer: tr, artifact: tr.state === 'done' ? artifacts.result(id) : undefined })
      }
      const check = (): void => {
        if (artifacts.generation !== generation) {
          // the sidecar went away: this transfer will not report again
          finish({ ...started, state: 'failed', error: { code: 'INTERNAL', message: t('the MeshLink sidecar stopped') } })
          return
        }
        const tr = artifacts.transfer(id)
        if (!tr) return
        if (tr.bytesDone !== lastDone || tr.state !== 'running') { lastDone = tr.bytesDone; lastNews = Date.now() }
        const pct = tr.bytesTotal > 0 ? Math.min(100, (tr.bytesDone / tr.bytesTotal) * 100) : 0
        progress.report({ message: progressText(tr, t, nameOf), increment: Math.max(0, pct - shownPct) })
        shownPct = Math.max(shownPct, pct)
        if (tr.state !== 'running') finish(tr)
      }
      const sub = artifacts.onDidChange(check)
      const cancelSub = token.onCancellationRequested(() => {
        progress.report({ message: t('Cancelling…') })
        c.call('transfers.cancel', { id }, { timeoutMs: 10_000 }).then((r) => artifacts.track(r.transfer), (err: unknown) => {
          // it may have ended meanwhile: the poll below settles it either way
          d.log.warn(`cancelling transfer ${id}: ${(err as Error).message}`)
        })
      })
      const timer = setInterval(() => {
        if (Date.now() - lastNews < POLL_MS) return
        c.call('transfers.list', {}, { timeoutMs: 10_000 }).then((r) => {
          const tr = r.transfers.find(x => x.id === id)
          if (tr) artifacts.track(tr)
          if (tr && tr.state === 'done' && !artifacts.result(id)) {
            // finished without our seeing transfer.done: the artifact is in the list
            return c.call('artifacts.list', {}, { timeoutMs: 10_000 }).then((l) => { artifacts.setSnapshot({ artifacts: l.artifacts }) })
          }
          lastNews = Date.now()
          return undefined
        }).catch((err: unknown) => d.log.warn(`transfers.list: ${(err as Error).message}`)).finally(check)
      }, POLL_MS / 2)
      check()
    }))
  }

  /** Reports how a followed transfer ended; the result when it was done. */
  function outcome (r: { transfer: Transfer, artifact: Artifact | undefined }, what: string): TransferResult | undefined {
    const tr = r.transfer
    if (tr.state === 'done' && r.artifact) return { transfer: tr, artifact: r.artifact }
    if (tr.state === 'cancelled' || tr.error?.code === 'CANCELLED') {
      notify.info(tr.kind === 'fetch'
        ? t('{0}: cancelled. Nothing was written to {1}; the parts that arrived are kept, so fetching again resumes.', what, tr.path)
        : t('{0}: cancelled.', what))
      return undefined
    }
    if (tr.state === 'done') {
      notify.error(new Error(t('the transfer finished but its artifact is not listed')), what)
      return undefined
    }
    notify.error(new TransferFailedError(tr.error?.code ?? 'INTERNAL', tr.kind, tr.error?.message ?? ''), what)
    return undefined
  }

  async function publish (arg?: unknown): Promise<TransferResult | undefined> {
    let path = pathOf(arg)
    // { path, tag? }: no questions; a Uri or a path string: asks for the tag only
    const direct = isObj(arg) && !(arg instanceof vscode.Uri) && typeof arg.path === 'string'
    let tag: string | undefined = direct && typeof arg.tag === 'string' ? arg.tag : undefined
    const pin = direct && typeof arg.pin === 'boolean' ? arg.pin : undefined
    const ws = vscode.workspace.workspaceFolders?.[0]
    if (!(await runner.sidecar())) return undefined
    if (path === undefined) {
      const dist = ws && ws.uri.scheme === 'file' ? ['dist', 'build', 'out'].map(n => join(ws.uri.fsPath, n)).find(p => existsSync(p)) : undefined
      const picked = await vscode.window.showOpenDialog({
        title: t('Publish Folder'),
        openLabel: t('Publish'),
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        defaultUri: dist ? vscode.Uri.file(dist) : ws?.uri
      })
      if (!picked?.[0]) return undefined
      if (picked[0].scheme !== 'file') { notify.error(new InputError(t('MeshLink publishes folders on this machine only, not {0}.', picked[0].toString())), t('Publish Folder')); return undefined }
      path = picked[0].fsPath
    }
    if (!isAbsolute(path)) { notify.error(new InputError(t('Give an absolute path, not {0}.', path)), t('Publish Folder')); return undefined }
    if (!direct) {
      tag = await vscode.window.showInputBox({
        title: t('Publish {0}', basename(path)),
        prompt: t('A tag teammates can fetch it by, such as web-dist or web-dist@main (the newest build under a tag wins). Leave empty for none.'),
        value: suggestTag(path, ws?.name),
        validateInput: s => checkTag(s, t)
      })
      if (tag === undefined) return undefined
    }
    tag = tag?.trim() || undefined
    const bad = tag !== undefined ? checkTag(tag, t) : undefined
    if (bad) { notify.error(new InputError(bad), t('Publish Folder')); return undefined }
    const what = t('Publish {0}', tag ?? basename(path))
    const p = path
    const started = await runner.run(what, c => c.call('artifacts.publish', { path: p, ...(tag ? { tag } : {}), ...(pin !== undefined ? { pin } : {}) }, { timeoutMs: 30_000 }), 'artifacts.publish')
    if (!started) return undefined
    const c = await runner.sidecar()
    if (!c) return undefined
    const r = outcome(await follow(c, started.transfer, t('Publishing {0}', tag ?? basename(path))), what)
    if (r) {
      const a = r.artifact
      const files = a.files === 1 ? t('1 file') : t('{0} files', a.files)
      notify.info(t('Published "{0}" ({1}, {2}). Teammates can fetch it now.', labelOf(a), bytes(a.size, t), files), { [t('Copy Artifact Id')]: () => copyId(a) })
    }
    return r
  }

  async function pickArtifact (placeHolder: string, filter: (a: Artifact) => boolean, none: string): Promise<Artifact | undefined> {
    if (!(await runner.sidecar())) return undefined
    const list = artifacts.all.filter(filter).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
    if (list.length === 0) { notify.info(none); return undefined }
    const pick = await vscode.window.showQuickPick(list.map(a => ({
      label: labelOf(a),
      description: `${bytes(a.size, t)} · ${a.files === 1 ? t('1 file') : t('{0} files', a.files)}${a.mine ? ` · ${t('published here')}` : ''}`,
      detail: a.id,
      a
    })), { placeHolder, matchOnDetail: true })
    return pick?.a
  }

  async function fetch (arg?: unknown): Promise<(TransferResult & { out: string }) | undefined> {
    const ref = artifactRefOf(arg)
    let artifact: Pick<Artifact, 'id' | 'tag'> | undefined = ref !== undefined ? artifacts.find(ref) ?? { id: ref, tag: null } : undefined
    if (!artifact) artifact = await pickArtifact(t('Fetch which artifact?'), a => !a.mine || a.complete, t('No artifact is published in this mesh yet.'))
    if (!artifact) return undefined
    const a = artifact
    const label = labelOf(a)
    let out = isObj(arg) && (typeof arg.out === 'string' || arg.out instanceof vscode.Uri) ? pathOf({ path: arg.out instanceof vscode.Uri ? arg.out.fsPath : arg.out }) : undefined
    if (out === undefined) {
      if (!(await runner.sidecar())) return undefined
      const ws = vscode.workspace.workspaceFolders?.[0]
      const picked = await vscode.window.showOpenDialog({
        title: t('Fetch {0} into…', label),
        openLabel: t('Fetch Here'),
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        defaultUri: ws?.uri
      })
      if (!picked?.[0]) return undefined
      if (picked[0].scheme !== 'file') { notify.error(new InputError(t('MeshLink fetches into folders on this machine only, not {0}.', picked[0].toString())), t('Fetch {0}', label)); return undefined }
      // a folder with files in it gets a new folder named after the artifact
      out = await outputDir(picked[0].fsPath, outputName(a))
    }
    if (!isAbsolute(out)) { notify.error(new InputError(t('Give an absolute path, not {0}.', out)), t('Fetch {0}', label)); return undefined }
    const o = out
    const what = t('Fetch {0}', label)
    // { maxBytesPerSec }: a download cap for this fetch (scripts, tests)
    const cap = isObj(arg) && typeof arg.maxBytesPerSec === 'number' && arg.maxBytesPerSec > 0 ? { maxBytesPerSec: arg.maxBytesPerSec } : {}
    const started = await runner.run(what, c => c.call('artifacts.fetch', { artifact: a.id, out: o, ...cap }, { timeoutMs: 30_000 }), 'artifacts.fetch')
    if (!started) return undefined
    const c = await runner.sidecar()
    if (!c) return undefined
    const r = outcome(await follow(c, started.transfer, t('Fetching {0}', label)), what)
    if (r) {
      const tr = r.transfer
      const fromPeers = tr.bytesFromPeers < tr.bytesTotal ? t(' ({0} were already here)', bytes(tr.bytesTotal - tr.bytesFromPeers, t)) : ''
      notify.info(t('Fetched "{0}" into {1}{2}.', label, o, fromPeers), { [t('Open Folder')]: () => vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(o), { forceNewWindow: true }) })
      return { ...r, out: o }
    }
    return undefined
  }

  async function remove (arg?: unknown): Promise<Artifact | undefined> {
    let ref = artifactRefOf(arg)
    if (ref === undefined) ref = (await pickArtifact(t('Remove which artifact from this machine?'), x => x.local, t('No artifact is stored on this machine.')))?.id
    if (ref === undefined) return undefined
    const known = artifacts.find(ref)
    const label = known ? labelOf(known) : ref
    const r = ref
    const removed = await runner.run(t('Remove {0}', label), c => c.call('artifacts.remove', { artifact: r }, { timeoutMs: 30_000 }), 'artifacts.remove')
    if (!removed) return undefined
    // other holders may still announce it: artifacts.list says what remains
    void d.refresh()
    vscode.window.setStatusBarMessage(t('Removed {0} from this machine', label), 4000)
    return removed.artifact
  }

  /** Pin (true) or unpin (false) a local artifact; returns it as the sidecar reports it afterwards. */
  function pinCommand (pinned: boolean): (arg?: unknown) => Promise<Artifact | undefined> {
    return async (arg?: unknown) => {
      let ref = artifactRefOf(arg)
      if (ref === undefined) {
        ref = (await pickArtifact(pinned ? t('Pin which artifact (keep it in the store whatever its size cap)?') : t('Unpin which artifact (the store may evict it)?'),
          x => x.local && x.pinned !== pinned, pinned ? t('No unpinned artifact is stored on this machine.') : t('No pinned artifact is stored on this machine.')))?.id
      }
      if (ref === undefined) return undefined
      const known = artifacts.find(ref)
      const label = known ? labelOf(known) : ref
      const r = ref
      const done = await runner.run(pinned ? t('Pin {0}', label) : t('Unpin {0}', label), c => c.call('artifacts.pin', { artifact: r, pinned }, { timeoutMs: 30_000 }), 'artifacts.pin')
      if (!done) return undefined
      // unpinning may have evicted it: artifacts.list says what remains
      void d.refresh()
      vscode.window.setStatusBarMessage(pinned ? t('Pinned {0}', label) : t('Unpinned {0}', label), 4000)
      return done.artifact
    }
  }

  async function copyId (arg?: unknown): Promise<string | undefined> {
    let id = artifactRefOf(arg)
    if (id === undefined) id = (await pickArtifact(t('Copy the id of which artifact?'), () => true, t('No artifact is published in this mesh yet.')))?.id
    if (id === undefined) return undefined
    id = artifacts.find(id)?.id ?? id
    try {
      await vscode.env.clipboard.writeText(id)
      vscode.window.setStatusBarMessage(t('Artifact id copied'), 3000)
    } catch (err) {
      // a browser-hosted workbench may refuse the clipboard: show it to copy by hand
      d.log.warn(`clipboard: ${(err as Error).message}`)
      void vscode.window.showInputBox({ title: t('Artifact id'), value: id, ignoreFocusOut: true })
    }
    return id
  }

  async function cancel (arg?: unknown): Promise<Transfer | undefined> {
    let id = typeof arg === 'string' ? arg : isObj(arg) && isObj(arg.transfer) ? String(arg.transfer.id) : undefined
    if (id === undefined) {
      if (!(await runner.sidecar())) return undefined
      const running = artifacts.running
      if (running.length === 0) { notify.info(t('No publish or fetch is running.')); return undefined }
      const pick = running.length === 1 ? { tr: running[0] } : await vscode.window.showQuickPick(running.map(tr => ({ label: tr.tag ?? basename(tr.path), description: progressText(tr, t, nameOf), tr })), { placeHolder: t('Cancel which transfer?') })
      id = pick?.tr.id
    }
    if (id === undefined) return undefined
    const i = id
    const r = await runner.run(t('Cancel'), c => c.call('transfers.cancel', { id: i }, { timeoutMs: 10_000 }), 'transfers.cancel')
    if (r) artifacts.track(r.transfer)
    return r?.transfer
  }

  const handlers: Record<(typeof ARTIFACT_COMMANDS)[keyof typeof ARTIFACT_COMMANDS], (...args: unknown[]) => unknown> = {
    [ARTIFACT_COMMANDS.publish]: publish,
    [ARTIFACT_COMMANDS.fetch]: fetch,
    [ARTIFACT_COMMANDS.remove]: remove,
    [ARTIFACT_COMMANDS.pin]: pinCommand(true),
    [ARTIFACT_COMMANDS.unpin]: pinCommand(false),
    [ARTIFACT_COMMANDS.copyId]: copyId,
    [ARTIFACT_COMMANDS.cancel]: cancel,
    [ARTIFACT_COMMANDS.refresh]: async () => { if (await runner.sidecar()) await d.refresh() }
  }
  return Object.entries(handlers).map(([id, fn]) => vscode.commands.registerCommand(id, fn))
}
