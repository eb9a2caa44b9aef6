/// <reference types="mocha" />
// Issue 5 in a real extension host: Publish Folder… from the extension (its tag prompt answered
// with Enter, as a person would) and a teammate's sidecar fetches the tree byte-exact; then the
// teammate publishes, the Artifacts view shows it with its holder online, Fetch… writes it into a
// folder with a progress notification (rate, ETA), byte-exact; Cancel, Copy Artifact Id and Remove.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import * as vscode from 'vscode'
import type { Transfer } from '../../../sidecar/src/gen/protocol-types.ts'
import type { TransferResult } from '../../../extension/src/artifacts/artifact-commands.ts'
import type { MeshlinkApi } from '../../../extension/src/extension.ts'
import type { ArtifactRow } from '../../../extension/src/views/artifacts-rows.ts'
import { patternChunk } from '../../helpers/servers.ts'
import { meshlink, screenshot, sleep, waitFor } from './helpers.ts'
import { startPeerSidecar, type PeerSidecar } from './peer-sidecar.ts'

const TEAMMATE = 'e2e-sync-peer'

/** A small build-output tree: nested folders, an empty file, a few MB of deterministic bytes. */
function makeTree (dir: string, seed: number, big: number): void {
  mkdirSync(join(dir, 'assets', 'img'), { recursive: true })
  writeFileSync(join(dir, 'index.html'), `<!doctype html><title>build ${seed}</title>\n`)
  writeFileSync(join(dir, 'assets', 'app.js'), patternChunk(seed * 7919, 300_000))
  writeFileSync(join(dir, 'assets', 'img', 'logo.bin'), patternChunk(seed * 104729, big))
  writeFileSync(join(dir, 'assets', 'empty.txt'), '')
}

/** relative path → SHA-256 of every file under `dir`. */
function treeHashes (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex')
    }
  }
  walk(dir)
  return out
}

/** Answers the open quick input (the tag prompt) with what it holds, until `pending` settles. */
async function acceptPrompts<T> (pending: Thenable<T>, timeoutMs = 60_000): Promise<T> {
  let settled = false
  const result = Promise.resolve(pending).finally(() => { settled = true })
  const deadline = Date.now() + timeoutMs
  while (!settled && Date.now() < deadline) {
    await sleep(700)
    if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem')
  }
  return await result
}

function findArtifact (api: MeshlinkApi, id: string): ArtifactRow | undefined {
  return api.artifactsViewRows().flatMap(g => g.artifacts).find(a => a.id === id)
}

export function defineArtifactsSuite (): void {
  describe('MeshLink Artifacts in a real extension host', function () {
    let api: MeshlinkApi
    let extensionPath: string
    let teammate: PeerSidecar | undefined
    const scratch = mkdtempSync(join(tmpdir(), 'ml-e2e-artifacts-'))

    before(async function () {
      const m = await meshlink()
      api = m.api
      extensionPath = m.ext.extensionPath
      await waitFor('the sidecar to run', () => api.supervisor.state.phase === 'running', 45_000)
      const status = await api.supervisor.client!.call('node.status')
      if (status.mesh.personal) await vscode.commands.executeCommand('meshlink.createMesh', 'e2e artifacts')
    })

    after(async function () {
      await teammate?.stop()
      rmSync(scratch, { recursive: true, force: true })
    })

    it('publishes a folder from the extension; a teammate fetches it byte-exact', async function () {
      this.timeout(120_000)
      const dist = join(scratch, 'dist')
      makeTree(dist, 1, 3 * 1024 * 1024 + 5)

      // Publish Folder… on a folder (as the explorer's context menu passes it): the tag prompt
      // suggests "<workspace>-dist"; Enter accepts it
      const published = await acceptPrompts(vscode.commands.executeCommand<TransferResult | undefined>('meshlink.publishArtifact', vscode.Uri.file(dist)))
      assert.ok(published, 'published')
      const a = published.artifact
      assert.equal(a.tag, `${vscode.workspace.workspaceFolders![0].name}-dist`)
      assert.equal(a.files, 4)
      assert.equal(a.mine, true)
      assert.equal(published.transfer.state, 'done')
      const row = await waitFor('the artifact under "Published here"', () => findArtifact(api, a.id))
      assert.equal(api.artifactsViewRows()[0].label, 'Published here')
      assert.equal(row.label, a.tag)
      assert.equal(row.contextValue, 'meshlink.artifact.mine.local.pinned', 'published artifacts are pinned')
      assert.match(row.description, /^3\.4 MB · 4 files · on no other machine yet$/)
      assert.ok(api.messages().some(m => m.message.startsWith(`Published "${a.tag}" (3.4 MB, 4 files)`)))

      // a teammate joins and fetches it from this machine
      const code = await vscode.commands.executeCommand<string | undefined>('meshlink.copyInvite')
      assert.ok(code?.startsWith('ML1'))
      teammate = await startPeerSidecar(join(extensionPath, 'dist', 'meshlink.mjs'), TEAMMATE)
      const joined = await teammate.client.call('mesh.join', { code: code! }, { timeoutMs: 45_000 })
      assert.equal(joined.connected, true, `the teammate reached this node: ${joined.error ?? ''}`)
      const seen = await waitFor('the teammate to see the artifact', async () => (await teammate!.client.call('artifacts.list')).artifacts.find(x => x.id === a.id))
      assert.equal(seen.tag, a.tag)
      const out = join(scratch, 'teammate-out')
      const { transfer } = await teammate.client.call('artifacts.fetch', { artifact: a.tag!, out })
      const done = await waitFor('the teammate\'s fetch to end', async () => {
        const tr = (await teammate!.client.call('transfers.list')).transfers.find(x => x.id === transfer.id)
        return tr && tr.state !== 'running' ? tr : undefined
      }, 60_000, 300)
      assert.equal(done.state, 'done', JSON.stringify(done.error))
      assert.deepEqual(treeHashes(out), treeHashes(dist), 'byte-exact tree')
      // the teammate now holds it: the row says so
      await waitFor('the teammate as a holder in the view', () => findArtifact(api, a.id)?.description.endsWith('1 holder online'), 20_000)
    })

    it('a teammate\'s artifact shows; Fetch… writes it with progress, byte-exact; Cancel, Copy Artifact Id and Remove', async function () {
      this.timeout(180_000)
      assert.ok(teammate, 'the previous test started the teammate')
      const theirs = join(scratch, 'their-build')
      const SIZE = 24 * 1024 * 1024 + 11
      makeTree(theirs, 2, SIZE)
      const pub = await teammate.client.call('artifacts.publish', { path: theirs, tag: 'api-dist@main' })
      const id = await waitFor('the teammate\'s publish', async () => (await teammate!.client.call('transfers.list')).transfers.find(x => x.id === pub.transfer.id && x.state === 'done')?.artifact ?? undefined, 60_000, 300)

      const row = await waitFor('the teammate\'s artifact under "In the mesh"', () => findArtifact(api, id), 20_000)
      const group = api.artifactsViewRows().find(g => g.artifacts.includes(row))!
      assert.equal(group.label, 'In the mesh')
      assert.equal(row.label, 'api-dist@main')
      assert.equal(row.description, '25 MB · 4 files · 1 holder online')
      assert.equal(row.contextValue, 'meshlink.artifact.theirs')
      assert.ok(row.tooltip.includes(`Held by: ${TEAMMATE.replace(/-/g, '\\-')}`), row.tooltip) // Markdown-escaped
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      await vscode.commands.executeCommand('meshlink.artifacts.focus')
      await sleep(500)
      await screenshot('14-artifacts')

      // Copy Artifact Id
      const copied = await vscode.commands.executeCommand<string | undefined>('meshlink.copyArtifactId', row)
      assert.equal(copied, id)
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen') // the fallback box, when the browser refuses the clipboard

      // Fetch… into a folder, capped so that the notification shows rate and ETA for a while; Cancel
      const cancelledOut = join(scratch, 'cancelled')
      const mark = api.messages().length
      const first = vscode.commands.executeCommand<TransferResult | undefined>('meshlink.fetchArtifact', { ...row, out: cancelledOut, maxBytesPerSec: 4 * 1024 * 1024 })
      const running = await waitFor('the fetch to make progress', () => api.artifacts.running.find((tr: Transfer) => tr.artifact === id && tr.bytesDone > 0 && tr.rateBytesPerSec > 0), 30_000, 100)
      assert.equal(running.kind, 'fetch')
      assert.ok(running.etaMs !== null && running.etaMs > 0, 'an ETA')
      await waitFor('the row to say it is fetching', () => /fetching \d+%$/.test(findArtifact(api, id)?.description ?? ''), 10_000, 100)
      await vscode.commands.executeCommand('notifications.showList')
      await screenshot('15-fetch-progress')
      await vscode.commands.executeCommand('notifications.hideList')
      const cancelled = await vscode.commands.executeCommand<Transfer | undefined>('meshlink.cancelTransfer', findArtifact(api, id))
      assert.equal(cancelled?.id, running.id)
      assert.equal(await first, undefined, 'a cancelled fetch returns nothing')
      assert.ok(api.messages().slice(mark).some(m => m.severity === 'info' && /cancelled\. Nothing was written to .*; the parts that arrived are kept/.test(m.message)), JSON.stringify(api.messages().slice(mark)))
      assert.equal(existsSync(cancelledOut) && readdirSync(cancelledOut).length > 0, false, 'no half-written output')

      // Fetch… again: resumes, ends byte-exact; the notification names what was already here
      const out = join(scratch, 'fetched')
      const fetched = await vscode.commands.executeCommand<(TransferResult & { out: string }) | undefined>('meshlink.fetchArtifact', { ...findArtifact(api, id)!, out })
      assert.ok(fetched, 'fetched')
      assert.equal(fetched.out, out)
      assert.equal(fetched.transfer.state, 'done')
      assert.ok(fetched.transfer.bytesFromPeers < fetched.transfer.bytesTotal, 'what the cancelled fetch got was not fetched again')
      assert.deepEqual(treeHashes(out), treeHashes(theirs), 'byte-exact tree')
      assert.ok(api.messages().some(m => m.message.startsWith(`Fetched "api-dist@main" into ${out}`)))
      const here = await waitFor('the row to say it is here', () => { const r = findArtifact(api, id); return r?.contextValue === 'meshlink.artifact.theirs.local' ? r : undefined })
      assert.equal(here.description, '25 MB · 4 files · here · 1 holder online')
      await screenshot('16-artifact-fetched')

      // Fetch… into a destination that is not empty: the sidecar's CONFLICT, explained
      const before = api.messages().length
      assert.equal(await vscode.commands.executeCommand('meshlink.fetchArtifact', { artifact: id, out }), undefined)
      const err = api.messages().slice(before).find(m => m.severity === 'error')
      assert.equal(err?.code, 'CONFLICT')
      assert.match(err.message, /^Fetch api-dist@main: The destination folder is not empty/)

      // Pin, then Unpin: the row's context (which of the two the menu offers) follows
      const pinned = await vscode.commands.executeCommand<{ id: string, pinned: boolean } | undefined>('meshlink.pinArtifact', here)
      assert.equal(pinned?.pinned, true)
      const pinnedRow = await waitFor('the row to be pinned', () => { const r = findArtifact(api, id); return r?.contextValue === 'meshlink.artifact.theirs.local.pinned' ? r : undefined })
      assert.match(pinnedRow.tooltip, /Pinned: never evicted/)
      const unpinned = await vscode.commands.executeCommand<{ id: string, pinned: boolean } | undefined>('meshlink.unpinArtifact', pinnedRow)
      assert.equal(unpinned?.pinned, false)
      await waitFor('the row to be unpinned', () => findArtifact(api, id)?.contextValue === 'meshlink.artifact.theirs.local')

      // Remove: gone from this machine, still in the mesh (the teammate holds it)
      const removed = await vscode.commands.executeCommand<{ id: string } | undefined>('meshlink.removeArtifact', here)
      assert.equal(removed?.id, id)
      await waitFor('the row to be in the mesh only', () => findArtifact(api, id)?.contextValue === 'meshlink.artifact.theirs', 20_000)

      // the teammate goes offline: its artifact has no holder online any more
      await teammate.stop()
      teammate = undefined
      await waitFor('no holder online', () => { const r = findArtifact(api, id); return !r || r.holdersOnline === 0 }, 30_000)
    })
  })
}
