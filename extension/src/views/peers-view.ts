import * as vscode from 'vscode'
import type { MeshModel, PeerRow } from './mesh-model.ts'

export const PEERS_VIEW_ID = 'meshlink.peers'

const ICONS: Record<PeerRow['icon'], vscode.ThemeIcon> = {
  direct: new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.green')),
  relayed: new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.yellow')),
  offline: new vscode.ThemeIcon('circle-outline', new vscode.ThemeColor('disabledForeground'))
}

/**
 * The Peers view: one row per mesh member (name, online/offline, direct/relayed, RTT; addresses in
 * the tooltip). Empty while there is no shared mesh or no member yet, so the welcome view shows.
 * Also keeps the context keys the welcome view and menus switch on.
 */
export class PeersView implements vscode.TreeDataProvider<PeerRow>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<PeerRow | undefined>()
  readonly onDidChangeTreeData = this.changeEmitter.event
  private readonly model: MeshModel
  private readonly view: vscode.TreeView<PeerRow>
  private readonly subs: vscode.Disposable[] = []
  private current: PeerRow[] = []

  constructor (model: MeshModel) {
    this.model = model
    this.view = vscode.window.createTreeView(PEERS_VIEW_ID, { treeDataProvider: this })
    this.subs.push(this.view, this.changeEmitter, model.onDidChange(() => this.update()))
    this.update()
  }

  /** The rows as the view shows them now. */
  get rows (): readonly PeerRow[] { return this.current }
  get visible (): boolean { return this.view.visible }

  private update (): void {
    this.current = this.model.rows(vscode.l10n.t)
    const mesh = this.model.mesh
    this.view.description = mesh ? (mesh.personal ? vscode.l10n.t('personal mesh') : mesh.name) : undefined
    const online = this.model.onlineCount
    this.view.badge = online > 0 ? { value: online, tooltip: vscode.l10n.t('{0} members online', online) } : undefined
    void vscode.commands.executeCommand('setContext', 'meshlink.phase', this.model.phase)
    void vscode.commands.executeCommand('setContext', 'meshlink.meshKind', mesh ? (mesh.personal ? 'personal' : 'shared') : undefined)
    void vscode.commands.executeCommand('setContext', 'meshlink.hasPeers', this.current.length > 0)
    this.changeEmitter.fire(undefined)
  }

  getTreeItem (row: PeerRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None)
    item.id = row.id
    item.description = row.description
    const tip = new vscode.MarkdownString(row.tooltip)
    tip.supportThemeIcons = false
    item.tooltip = tip
    item.iconPath = ICONS[row.icon]
    item.contextValue = row.contextValue
    item.accessibilityInformation = { label: `${row.label}, ${row.description}` }
    return item
  }

  getChildren (element?: PeerRow): PeerRow[] {
    return element ? [] : this.current
  }

  dispose (): void {
    for (const s of this.subs) s.dispose()
  }
}
