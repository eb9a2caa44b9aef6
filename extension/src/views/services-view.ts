import * as vscode from 'vscode'
import type { MeshModel } from './mesh-model.ts'
import type { ServicesModel } from './services-model.ts'
import type { ForwardRow, HostRow, ServiceRow, ServicesTreeRow } from './services-rows.ts'

export const SERVICES_VIEW_ID = 'meshlink.services'

const green = new vscode.ThemeColor('charts.green')
const muted = new vscode.ThemeColor('disabledForeground')
const HOST_ICONS: Record<HostRow['icon'], vscode.ThemeIcon> = {
  self: new vscode.ThemeIcon('vm'),
  online: new vscode.ThemeIcon('person', green),
  offline: new vscode.ThemeIcon('person', muted)
}
const SERVICE_ICONS: Record<ServiceRow['icon'], vscode.ThemeIcon> = {
  mine: new vscode.ThemeIcon('broadcast', new vscode.ThemeColor('charts.blue')),
  online: new vscode.ThemeIcon('plug', green),
  offline: new vscode.ThemeIcon('plug', muted),
  forbidden: new vscode.ThemeIcon('lock', muted)
}
const FORWARD_ICONS: Record<ForwardRow['icon'], vscode.ThemeIcon> = {
  forward: new vscode.ThemeIcon('arrow-swap', green),
  forwardFailed: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
}

/**
 * The Services view: hosts (this machine first), their services (port, who may use it, online or
 * not) and, under a teammate's service, the forwards open on this machine (local address,
 * connections). Empty while nobody shares anything, so the welcome view shows.
 */
export class ServicesView implements vscode.TreeDataProvider<ServicesTreeRow>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<ServicesTreeRow | undefined>()
  readonly onDidChangeTreeData = this.changeEmitter.event
  private readonly model: MeshModel
  private readonly services: ServicesModel
  private readonly view: vscode.TreeView<ServicesTreeRow>
  private readonly subs: vscode.Disposable[] = []
  private current: HostRow[] = []

  /** `onVisible`: the view came into sight (connection counts have no event: fetch them then). */
  constructor (model: MeshModel, services: ServicesModel, onVisible: () => void) {
    this.model = model
    this.services = services
    this.view = vscode.window.createTreeView(SERVICES_VIEW_ID, { treeDataProvider: this, showCollapseAll: true })
    this.subs.push(this.view, this.changeEmitter, model.onDidChange(() => this.update()), services.onDidChange(() => this.update()),
      this.view.onDidChangeVisibility((e) => { if (e.visible) onVisible() }))
    this.update()
  }

  /** The tree as the view shows it now. */
  get rows (): readonly HostRow[] { return this.current }

  private update (): void {
    const st = this.model.status
    this.current = this.services.rows(vscode.l10n.t, { self: st ? { id: st.peerId, name: st.name } : undefined, peers: this.model.peers })
    const open = this.services.openForwards.length
    this.view.description = open > 0 ? vscode.l10n.t('{0} open here', open) : undefined
    void vscode.commands.executeCommand('setContext', 'meshlink.hasServices', this.current.length > 0)
    this.changeEmitter.fire(undefined)
  }

  getTreeItem (row: ServicesTreeRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label)
    item.description = row.description
    const tip = new vscode.MarkdownString(row.tooltip)
    tip.supportThemeIcons = false
    item.tooltip = tip
    item.contextValue = row.contextValue
    item.accessibilityInformation = { label: `${row.label}, ${row.description}` }
    switch (row.kind) {
      case 'host':
        item.id = `host:${row.id}`
        item.iconPath = HOST_ICONS[row.icon]
        item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded
        break
      case 'service':
        // a new id once a forward opens: the tree would otherwise keep the row as it was (not expandable)
        item.id = `service:${row.key}${row.forwards.length > 0 ? ':open' : ''}`
        item.iconPath = SERVICE_ICONS[row.icon]
        item.collapsibleState = row.forwards.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None
        break
      case 'forward':
        item.id = `forward:${row.id}`
        item.iconPath = FORWARD_ICONS[row.icon]
        item.collapsibleState = vscode.TreeItemCollapsibleState.None
        break
    }
    return item
  }

  getChildren (row?: ServicesTreeRow): ServicesTreeRow[] {
    if (!row) return this.current
    if (row.kind === 'host') return row.services
    if (row.kind === 'service') return row.forwards
    return []
  }

  getParent (row: ServicesTreeRow): ServicesTreeRow | undefined {
    if (row.kind === 'host') return undefined
    if (row.kind === 'service') return this.current.find(h => h.id === row.host)
    return this.current.flatMap(h => h.services).find(s => s.key === row.parent)
  }

  dispose (): void {
    for (const s of this.subs) s.dispose()
  }
}
