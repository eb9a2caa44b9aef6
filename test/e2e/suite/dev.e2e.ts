/// <reference types="mocha" />
// The scenario of issue 3, in a real extension host: the extension starts its sidecar; a second
// sidecar joins by invite and shows up in the Peers view's data and the status bar; Join with a
// malformed code shows an error; killing the sidecar leads to a restart. Then: commands while the
// sidecar is down, and the error for a Node older than 22.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as vscode from 'vscode'
import type { MeshlinkApi } from '../../../extension/src/extension.ts'
import { meshlink, screenshot, sleep, waitFor } from './helpers.ts'
import { startPeerSidecar, type PeerSidecar } from './peer-sidecar.ts'

const REQUIRED_COMMANDS = ['createMesh', 'joinMesh', 'copyInvite', 'leaveMesh', 'setDisplayName', 'showLogs', 'restartSidecar', 'showMeshMap', 'copyPeerId', 'pingPeer'].map(c => `meshlink.${c}`)

export function defineDevSuite (): void {
  describe('MeshLink in a real extension host', function () {
    let api: MeshlinkApi
    let extensionPath: string
    let peer: PeerSidecar | undefined

    before(async function () {
      // the suite creates meshes and kills sidecars: never against someone's real state dir
      if (!vscode.workspace.getConfiguration('meshlink').get<string>('stateDir') && !process.env.MESHLINK_STATE) {
        throw new Error('refusing to run: set meshlink.stateDir (or MESHLINK_STATE) to a throw-away folder; see test/e2e/README.md')
      }
      const m = await meshlink()
      api = m.api
      extensionPath = m.ext.extensionPath
    })

    after(async function () {
      await peer?.stop()
    })

    it('activates without waiting for the sidecar, then starts its own', async function () {
      console.log(`@@metric activationMs=${api.activationMs.toFixed(1)}`)
      assert.ok(api.activationMs < 200, `activate() took ${api.activationMs} ms`)
      const commands = await vscode.commands.getCommands(true)
      for (const c of REQUIRED_COMMANDS) assert.ok(commands.includes(c), `${c} is registered`)
      await waitFor('the sidecar to run', () => api.supervisor.state.phase === 'running', 45_000)
      const s = api.supervisor.state
      assert.ok(s.phase === 'running' && s.owned, 'the extension spawned the sidecar itself')
      console.log(`@@metric sidecarReadyMs=${api.sidecarReadyMs?.toFixed(0)}`)
      assert.ok(api.supervisor.spawnCount >= 1)
      const status = await api.supervisor.client!.call('node.status')
      assert.equal(status.pid, api.supervisor.pid)
      assert.equal(status.mdns, false, 'settings reach the sidecar (meshlink.mdns=false)')
      assert.equal(status.mesh.personal, true, 'a fresh state dir starts in a personal mesh')
      await waitFor('the status bar to say there is no shared mesh yet', () => api.statusBar().text.includes('no shared mesh'))
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      await screenshot('01-started')
    })

    it('a second sidecar joins by invite and shows up in the Peers view and the status bar', async function () {
      const created = await vscode.commands.executeCommand<{ mesh: { name: string } } | undefined>('meshlink.createMesh', 'e2e team')
      assert.equal(created?.mesh.name, 'e2e team')
      await waitFor('the new mesh in the status bar', () => api.statusBar().text.includes('e2e team · 0/0'))
      assert.equal(api.peersViewRows().length, 0, 'no members yet: the welcome view shows')
      await screenshot('02-welcome-no-peers')

      const code = await vscode.commands.executeCommand<string | undefined>('meshlink.copyInvite')
      assert.ok(code?.startsWith('ML1'), `an invite code, not ${code}`)

      peer = await startPeerSidecar(join(extensionPath, 'dist', 'meshlink.mjs'), 'e2e-peer')
      const joined = await peer.client.call('mesh.join', { code: code! }, { timeoutMs: 45_000 })
      assert.equal(joined.mesh.name, 'e2e team')
      assert.equal(joined.connected, true, `the joiner reached the inviter: ${joined.error ?? ''}`)

      const row = await waitFor('the peer online in the Peers view', () => api.peersViewRows().find(r => r.label === 'e2e-peer' && r.online), 30_000)
      assert.equal(row.id, peer.info.peerId)
      assert.equal(row.icon, 'direct')
      assert.match(row.description, /^direct/)
      assert.match(row.tooltip, new RegExp(peer.info.peerId))
      assert.equal(row.contextValue, 'meshlink.peer.online')
      await waitFor('the status bar to count the peer', () => api.statusBar().text.includes('e2e team · 1/1'))

      const ping = await vscode.commands.executeCommand<{ rttMs: number } | undefined>('meshlink.pingPeer', row)
      assert.ok(ping && ping.rttMs >= 0, 'ping answered')
      await waitFor('the RTT in the Peers view', () => /ms$/.test(api.peersViewRows()[0]?.description ?? ''), 20_000)

      await vscode.commands.executeCommand('meshlink.showMeshMap')
      const graph = await waitFor('the mesh map to draw the peer', () => { const g = api.meshMapGraph(); return g && g.edges.length === 1 ? g : undefined })
      assert.equal(graph.edges[0].to, peer.info.peerId)
      assert.equal(graph.edges[0].connection, 'direct')
      await waitFor('the mesh map page to draw the edge', () => api.meshMapRendered()?.edges === 1, 30_000)
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      await screenshot('03-peer-joined')
    })

    it('Join Mesh with a malformed code shows an error', async function () {
      const before = api.messages().length
      const r1 = await vscode.commands.executeCommand('meshlink.joinMesh', 'hello there')
      assert.equal(r1, undefined)
      const local = api.messages().slice(before).find(m => m.severity === 'error')
      assert.ok(local, 'an error notification')
      assert.equal(local.code, 'InvalidInviteCodeError')
      assert.match(local.message, /start with ML1/)

      // passes the local check, fails the sidecar's checksum: the sidecar's INVALID_INVITE is mapped
      const r2 = await vscode.commands.executeCommand('meshlink.joinMesh', 'ML1' + '2'.repeat(90))
      assert.equal(r2, undefined)
      const remote = api.messages().slice(before).filter(m => m.severity === 'error')[1]
      assert.ok(remote, 'a second error notification')
      assert.equal(remote.code, 'INVALID_INVITE')
      assert.match(remote.message, /not a valid MeshLink invite code/)
      assert.equal(api.model.mesh?.name, 'e2e team', 'still in the mesh')
      await vscode.commands.executeCommand('notifications.showList')
      await screenshot('04-join-error')
      await vscode.commands.executeCommand('notifications.hideList')
    })

    it('killing the sidecar leads to a restart', async function () {
      const oldPid = api.supervisor.pid!
      const spawned = api.supervisor.spawnCount
      process.kill(oldPid, 'SIGKILL')
      await waitFor('the restart notice', () => api.messages().some(m => m.severity === 'warning' && /restarting it in/.test(m.message)), 10_000)
      await waitFor('a new sidecar', () => api.supervisor.state.phase === 'running' && api.supervisor.pid !== oldPid, 45_000)
      assert.equal(api.supervisor.spawnCount, spawned + 1)
      assert.equal((await api.supervisor.client!.call('node.status')).mesh.name, 'e2e team', 'the mesh survives a restart (state dir)')
      await waitFor('the peer back online', () => api.peersViewRows().find(r => r.label === 'e2e-peer' && r.online), 45_000)
      await waitFor('the status bar back to normal', () => api.statusBar().text.includes('e2e team · 1/1'), 20_000)
      await screenshot('05-after-restart')
    })

    it('while the sidecar is down, commands say so and offer to start it; a too-old Node gets an actionable error', async function () {
      await api.supervisor.stop()
      await waitFor('the status bar to say the sidecar is down', () => /sidecar down/.test(api.statusBar().text))
      assert.equal(api.peersViewRows().length, 0, 'no stale members')
      const before = api.messages().length
      assert.equal(await vscode.commands.executeCommand('meshlink.copyInvite'), undefined)
      const down = api.messages().slice(before).find(m => m.severity === 'error')
      assert.equal(down?.code, 'SidecarDownError')
      assert.match(down.message, /not running/)
      await screenshot('06-sidecar-down')

      if (process.platform !== 'win32') {
        const fakeNode = join(mkdtempSync(join(tmpdir(), 'ml-e2e-node-')), 'node')
        writeFileSync(fakeNode, '#!/bin/sh\necho v20.11.1\n')
        chmodSync(fakeNode, 0o755)
        const cfg = vscode.workspace.getConfiguration('meshlink')
        // a settings change while the sidecar is down starts it with the new settings
        await cfg.update('sidecar.nodePath', fakeNode, vscode.ConfigurationTarget.Global)
        const failed = await waitFor('the start to fail on the old Node', () => { const st = api.supervisor.state; return st.phase === 'failed' ? st : undefined }, 20_000)
        assert.equal(failed.error.name, 'NodeTooOldError')
        const msg = await waitFor('the actionable error', () => api.messages().find(m => m.code === 'NodeTooOldError'))
        assert.match(msg.message, /meshlink\.sidecar\.nodePath points to Node\.js 20\.11\.1/)
        assert.match(msg.message, /Set meshlink\.sidecar\.nodePath to a Node\.js 22\+ executable/)
        await vscode.commands.executeCommand('notifications.showList')
        await screenshot('07-node-too-old')
        await vscode.commands.executeCommand('notifications.hideList')
        await cfg.update('sidecar.nodePath', undefined, vscode.ConfigurationTarget.Global)
      } else {
        await vscode.commands.executeCommand('meshlink.restartSidecar')
      }
      await waitFor('the sidecar to run again', () => api.supervisor.state.phase === 'running', 45_000)
      await waitFor('the peer back online', () => api.peersViewRows().find(r => r.label === 'e2e-peer' && r.online), 45_000)

      await vscode.commands.executeCommand('meshlink.showMeshMap')
      await waitFor('the mesh map page to draw the edge', () => api.meshMapRendered()?.edges === 1, 30_000)
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      await sleep(500)
      await screenshot('08-final-views')
    })
  })
}
