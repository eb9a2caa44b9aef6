import * as vscode from 'vscode'

/** The extension's one log: its own lines and the sidecar's stderr ("MeshLink" in the Output panel). */
export function createLog (): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('MeshLink', { log: true })
}
