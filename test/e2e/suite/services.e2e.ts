/// <reference types="mocha" />
// Issue 4 in a real extension host: the extension shares the port of a real HTTP server (the
// command's prompts answered through the workbench's own quick-input commands) and a teammate's
// sidecar opens it and fetches through it; then the teammate shares, the Services view shows it,
// the notification offers Open, Open opens the forward and the browser, a fetch through the local
// address works; Close, Stop Sharing and the teammate unsharing all show live.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import * as vscode from 'vscode'
import type { Service } from '../../../sidecar/src/gen/protocol-types.ts'
import type { MeshlinkApi } from '../../../extension/src/extension.ts'
import type { OpenResult } from '../../../extension/src/services/service-commands.ts'
import { CATCH_UP_MS } from '../../../extension/src/views/services-model.ts'
import type { ForwardRow, HostRow, ServiceRow } from '../../../extension/src/views/services-rows.ts'
import { sha256Pattern, startDevServer, type DevServer } from '../../helpers/servers.ts'
import { startDevServerProcess, type DevServerProcess } from './dev-server-process.ts'
import { meshlink, screenshot, sleep, waitFor } from './helpers.ts'
import { startPeerSidecar, type PeerSidecar } from './peer-sidecar.ts'

const TEAMMATE = 'e2e-teammate'
const BODY = 3 * 1024 * 1024 + 17

/** One HTTP request on its own connection; the whole body. */
function fetchThrough (port: number, path: string, body?: Buffer): Promise<{ status: number, body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer through 127.0.0.1:${port}${path}`)))
    req.on('error', reject)
    req.end(body)
  })
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

function findService (rows: readonly HostRow[], host: string, name: string): ServiceRow | undefined {
  return rows.find(h => h.id === host)?.services.find(s => s.name === name)
}

/** Answers the open quick input (input box or quick pick) with what it holds, until `pending` settles. */
async function acceptPrompts<T> (pending: Thenable<T>, timeoutMs = 20_000): Promise<T> {
  let settled = false
  const result = Promise.resolve(pending).finally(() => { settled = true })
  const deadline = Date.now() + timeoutMs
  while (!settled && Date.now() < deadline) {
    await sleep(700)
    if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem')
  }
  return await result
}

export function defineServicesSuite (): void {
  describe('MeshLink Services in a real extension host', function () {
    let api: MeshlinkApi
    let extensionPath: string
    let selfId: string
    let teammate: PeerSidecar | undefined
    let teammateOnlineAt = 0
    let myServer: DevServerProcess | undefined
    let theirServer: DevServer | undefined
    const sockets: Socket[] = []

    before(async function () {
      const m = await meshlink()
      api = m.api
      extensionPath = m.ext.extensionPath
      await waitFor('the sidecar to run', () => api.supervisor.state.phase === 'running', 45_000)
      const status = await api.supervisor.client!.call('node.status')
      selfId = status.peerId
      if (status.mesh.personal) await vscode.commands.executeCommand('meshlink.createMesh', 'e2e services')
    })

    after(async function () {
      for (const s of sockets) s.destroy()
      await teammate?.stop()
      await myServer?.stop()
      await theirServer?.close()
    })

    it('shares a local HTTP server from the extension; a teammate opens it and fetches byte-exact', async function () {
      this.timeout(120_000)
      myServer = await startDevServerProcess()
      const port = myServer.port
      const linux = process.platform === 'linux'
      if (linux) {
        const listed = await api.listeningPorts()
        assert.equal(listed.supported, true)
        const mine = listed.ports.find(p => p.port === port)
        assert.ok(mine, `port ${port} is among the listening ports: ${listed.ports.map(p => p.port).join(', ')}`)
        assert.equal(mine.host, '127.0.0.1')
        assert.equal(mine.program, 'node dev-server.cjs')
      }

      const code = await vscode.commands.executeCommand<string | undefined>('meshlink.copyInvite')
      assert.ok(code?.startsWith('ML1'))
      teammate = await startPeerSidecar(join(extensionPath, 'dist', 'meshlink.mjs'), TEAMMATE)
      const joined = await teammate.client.call('mesh.join', { code: code! }, { timeoutMs: 45_000 })
      assert.equal(joined.connected, true, `the teammate reached this node: ${joined.error ?? ''}`)
      await waitFor('the teammate online in the Peers view', () => api.peersViewRows().find(r => r.id === teammate!.info.peerId && r.online), 30_000)
      teammateOnlineAt = Date.now()

      // Share Port… with no argument: the port picker lists what listens here (screenshot), then cancel
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      const picker = vscode.commands.executeCommand('meshlink.shareService')
      await sleep(2000)
      await screenshot('09-share-port-picker')
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen')
      assert.equal(await picker, undefined, 'cancelled')

      // Share Port… for this port: the name prompt (default: the port) and the members prompt
      // (nothing checked: every member) answered as a person pressing Enter would
      const shared = await acceptPrompts(vscode.commands.executeCommand<Service | undefined>('meshlink.shareService', port))
      assert.ok(shared, 'shared')
      // the default name comes from the program listening there (Linux), else it is the port
      const name = shared.name
      assert.equal(name, linux ? 'dev-server' : String(port))
      assert.equal(shared.port, port)
      assert.equal(shared.allow, null, 'every member')
      const row = await waitFor('the service under this machine in the Services view', () => findService(api.servicesViewRows(), selfId, name))
      assert.equal(row.description, name === String(port) ? 'everyone' : `:${port} · everyone`)
      assert.equal(row.contextValue, 'meshlink.service.mine')
      assert.equal(api.servicesViewRows()[0].mine, true, 'this machine first')
      assert.ok(api.messages().some(m => m.message === `Sharing "${name}" (port ${port}) with every member of the mesh.`))

      // the teammate sees it and opens it: its own sidecar listens and carries to this machine
      const seen = await waitFor('the teammate to see the service', async () => (await teammate!.client.call('services.list')).services.find(s => s.host === selfId && s.name === name && s.online))
      assert.equal(seen.port, port)
      const { forward } = await teammate.client.call('forwards.open', { peer: selfId, service: name })
      const small = await fetchThrough(forward.localPort, '/hello')
      assert.equal(small.status, 200)
      assert.equal(small.body.toString(), 'hello from /hello')
      const big = await fetchThrough(forward.localPort, `/bytes?n=${BODY}`)
      assert.equal(big.body.length, BODY)
      assert.equal(sha(big.body), sha256Pattern(BODY), 'byte-exact')
      const up = randomBytes(1024 * 1024 + 3)
      const echoed = await fetchThrough(forward.localPort, '/echo', up)
      assert.ok(echoed.body.equals(up), 'the request body arrives byte-exact too')
      await screenshot('10-services-shared')
    })

    it('a teammate\'s service shows live; the notification offers Open; Open opens the forward and the browser; Close, Stop Sharing and unsharing show', async function () {
      this.timeout(120_000)
      assert.ok(teammate, 'the previous test started the teammate')
      const peerId = teammate.info.peerId
      theirServer = await startDevServer()
      // services a member announces as it connects are not news; a share after that is
      await sleep(Math.max(0, teammateOnlineAt + CATCH_UP_MS + 500 - Date.now()))
      const before = api.messages().length
      await teammate.client.call('services.share', { port: theirServer.port, name: 'docs' })

      const row = await waitFor('the teammate\'s service in the Services view', () => findService(api.servicesViewRows(), peerId, 'docs'), 20_000)
      assert.equal(row.description, `:${theirServer.port} · everyone`)
      assert.equal(row.contextValue, 'meshlink.service.theirs.online')
      const host = api.servicesViewRows().find(h => h.id === peerId)!
      assert.equal(host.label, TEAMMATE)
      assert.match(host.description, /^online · 1 service/)
      const note = await waitFor('the notification', () => api.messages().slice(before).find(m => m.message.startsWith(`${TEAMMATE} shares "docs"`)))
      assert.equal(note.severity, 'info')
      await vscode.commands.executeCommand('notifications.showList')
      await screenshot('11-teammate-shares')
      await vscode.commands.executeCommand('notifications.hideList')

      // Open (the notification's button runs the same command with the service)
      const opened = await vscode.commands.executeCommand<OpenResult | undefined>('meshlink.openService', row)
      assert.ok(opened, 'opened')
      assert.equal(opened.kind, 'http', 'the probe through the forward found an HTTP server')
      assert.equal(opened.url, `http://127.0.0.1:${opened.forward.localPort}/`)
      assert.ok(api.externalOpens().includes(opened.url), 'the browser was asked to open it')
      const local = opened.forward.localPort
      const big = await fetchThrough(local, `/bytes?n=${BODY}`)
      assert.equal(sha(big.body), sha256Pattern(BODY), 'byte-exact through the extension\'s forward')

      // the forward under its service: local address, URL, connections (an idle keep-alive one held open)
      const held = connect({ host: '127.0.0.1', port: local })
      sockets.push(held)
      await new Promise<void>((resolve, reject) => { held.once('connect', () => resolve()); held.once('error', reject) })
      await waitFor('the teammate\'s server to see the held connection', async () => {
        await api.refresh()
        return api.services.openForwards.find(f => f.id === opened.forward.id)?.connections === 1
      }, 15_000, 500)
      const svcRow = findService(api.servicesViewRows(), peerId, 'docs')!
      assert.equal(svcRow.contextValue, 'meshlink.service.theirs.online.open')
      const fwdRow: ForwardRow = svcRow.forwards[0]
      assert.equal(fwdRow.label, `127.0.0.1:${local}`)
      assert.equal(fwdRow.url, `http://127.0.0.1:${local}/`)
      assert.equal(fwdRow.description, 'http · 1 connection')
      assert.equal(api.servicesViewRows().length, 2, 'two hosts: this machine and the teammate')
      await sleep(500)
      await screenshot('12-services-open')

      const copied = await vscode.commands.executeCommand<string | undefined>('meshlink.copyServiceAddress', fwdRow)
      assert.equal(copied, `127.0.0.1:${local}`)
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen') // the fallback box, when the browser refuses the clipboard
      held.destroy()

      // Close: the local port stops listening
      const closed = await vscode.commands.executeCommand<unknown[] | undefined>('meshlink.closeForward', fwdRow)
      assert.equal(closed?.length, 1)
      await waitFor('the forward gone from the view', () => findService(api.servicesViewRows(), peerId, 'docs')?.forwards.length === 0)
      await assert.rejects(fetchThrough(local, '/hello'), /ECONNREFUSED/)

      // opened again, then the teammate stops sharing: the forward closes and the person is told why
      const again = await vscode.commands.executeCommand<OpenResult | undefined>('meshlink.openService', { host: peerId, name: 'docs' })
      assert.ok(again)
      const mark = api.messages().length
      await teammate.client.call('services.unshare', { name: 'docs' })
      await waitFor('the service gone from the view', () => !findService(api.servicesViewRows(), peerId, 'docs'), 20_000)
      await waitFor('the forward-closed notice', () => api.messages().slice(mark).find(m => /"docs" from e2e-teammate is closed at 127\.0\.0\.1:\d+: the host stopped sharing/.test(m.message)), 20_000)
      assert.equal(api.services.openForwards.length, 0)

      // Stop Sharing this machine's service: gone here and for the teammate
      const mine = api.servicesViewRows()[0].services[0]
      assert.equal(mine.mine, true)
      const unshared = await vscode.commands.executeCommand<Service | undefined>('meshlink.unshareService', mine)
      assert.equal(unshared?.name, mine.name)
      await waitFor('no service left here', () => api.servicesViewRows().every(h => h.services.length === 0))
      await waitFor('the teammate to see it gone', async () => !(await teammate!.client.call('services.list')).services.some(s => s.host === selfId))
    })

    it('Open explains FORBIDDEN, and a teammate going offline shows', async function () {
      this.timeout(90_000)
      assert.ok(teammate && theirServer)
      const peerId = teammate.info.peerId
      // shared with another member only (the e2e-peer of the first suite, offline now): not this machine
      const other = await waitFor('another member the teammate knows', async () => (await teammate!.client.call('peers.list')).peers.find(p => p.id !== selfId))
      await teammate.client.call('services.share', { port: theirServer.port, name: 'private', allow: [other.id] })
      const row = await waitFor('the private service', () => findService(api.servicesViewRows(), peerId, 'private'), 20_000)
      assert.equal(row.contextValue, 'meshlink.service.theirs.forbidden')
      assert.equal(row.description, `:${theirServer.port} · not allowed for you`)
      const before = api.messages().length
      assert.equal(await vscode.commands.executeCommand('meshlink.openService', row), undefined)
      const err = api.messages().slice(before).find(m => m.severity === 'error')
      assert.equal(err?.code, 'FORBIDDEN')
      assert.match(err.message, /^Open private \(e2e-teammate\): The host does not allow this machine to use that service \(.+\)\. Ask them to share it with you\.$/)

      await teammate.stop()
      teammate = undefined
      await waitFor('the teammate offline in the Services view', () => {
        const h = api.servicesViewRows().find(x => x.id === peerId)
        return h && !h.online && h.services[0]?.description.endsWith('· offline') ? h : undefined
      }, 30_000)
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      await sleep(500)
      await screenshot('13-teammate-offline')
    })
  })
}
