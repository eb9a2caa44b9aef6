/// <reference types="mocha" />
// The linux-x64 .vsix, installed into the VS Code server like a user would, activates, loads its
// packaged zeromq addon and runs its bundled sidecar.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import * as vscode from 'vscode'
import { meshlink, screenshot, waitFor } from './helpers.ts'

export function defineInstalledSuite (): void {
  describe('MeshLink installed from its .vsix', function () {
    it('activates and runs the bundled sidecar with the packaged zeromq addon', async function () {
      const { ext, api } = await meshlink()
      const expectedDir = process.env.MESHLINK_E2E_EXTENSIONS_DIR
      if (expectedDir) assert.ok(ext.extensionPath.startsWith(expectedDir), `${ext.extensionPath} is the installed copy`)
      assert.ok(existsSync(join(ext.extensionPath, 'dist', 'meshlink.mjs')))
      assert.ok(!existsSync(join(ext.extensionPath, 'extension', 'src')), 'no sources in the package')
      console.log(`@@metric installedActivationMs=${api.activationMs.toFixed(1)}`)
      await waitFor('the sidecar to run', () => api.supervisor.state.phase === 'running', 45_000)
      const status = await api.supervisor.client!.call('node.status')
      assert.equal(status.version, ext.packageJSON.version)
      const zmq = Object.keys(require.cache).filter(k => k.includes(`${'/'}zeromq${'/'}`))
      assert.ok(zmq.some(k => k.startsWith(ext.extensionPath)), `zeromq loaded from the package, not ${zmq[0]}`)
      await waitFor('the status bar', () => /no shared mesh|·/.test(api.statusBar().text))
      await vscode.commands.executeCommand('workbench.view.extension.meshlink')
      await screenshot('10-installed')
    })
  })
}
