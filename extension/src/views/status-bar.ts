import * as vscode from 'vscode'
import type { MeshModel, StatusBarContent } from './mesh-model.ts'
import { PEERS_VIEW_ID } from './peers-view.ts'

/** Mesh name and members online; says so when the sidecar is down. Click opens the Peers view. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem
  private readonly sub: vscode.Disposable
  private readonly model: MeshModel
  private content: StatusBarContent

  constructor (model: MeshModel) {
    this.model = model
    this.item = vscode.window.createStatusBarItem('meshlink.status', vscode.StatusBarAlignment.Left, 50)
    this.item.name = 'MeshLink'
    this.item.command = { command: `${PEERS_VIEW_ID}.focus`, title: vscode.l10n.t('Open Peers') }
    this.content = model.statusBar(vscode.l10n.t)
    this.sub = model.onDidChange(() => this.update())
    this.update()
    this.item.show()
  }

  /** What the item shows now. */
  get shown (): StatusBarContent { return this.content }

  private update (): void {
    const c = this.content = this.model.statusBar(vscode.l10n.t)
    this.item.text = c.text
    this.item.tooltip = c.tooltip
    this.item.accessibilityInformation = { label: c.tooltip }
    this.item.backgroundColor = c.severity === 'normal' ? undefined : new vscode.ThemeColor(c.severity === 'warning' ? 'statusBarItem.warningBackground' : 'statusBarItem.errorBackground')
  }

  dispose (): void {
    this.sub.dispose()
    this.item.dispose()
  }
}
