import * as vscode from 'vscode'
import type { ArtifactsModel } from './artifacts-model.ts'
import type { ArtifactGroupRow, ArtifactRow, ArtifactsTreeRow } from './artifacts-rows.ts'
import type { MeshModel } from './mesh-model.ts'

export const ARTIFACTS_VIEW_ID = 'meshlink.artifacts'

const muted = new vscode.ThemeColor('disabledForeground')
const ICONS: Record<ArtifactRow['icon'], vscode.ThemeIcon> = {
  mine: new vscode.ThemeIcon('package', new vscode.ThemeColor('charts.blue')),
  here: new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green')),
  available: new vscode.ThemeIcon('cloud-download', new vscode.ThemeColor('charts.green')),
  unavailable: new vscode.ThemeIcon('cloud', muted),
  busy: new vscode.ThemeIcon('sync~spin')
}
const GROUP_ICONS: Record<ArtifactGroupRow['id'], vscode.ThemeIcon> = {
  mine: new vscode.ThemeIcon('vm'),
  mesh: new vscode.ThemeIcon('organization')
}

/**
 * The Artifacts view: what this machine published, and what members announce (size, files,
 * holders online), with the publish or fetch running on each. Empty while there is none, so the
 * welcome view shows.
 */
export class ArtifactsView implements vscode.TreeDataProvider<ArtifactsTreeRow>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<ArtifactsTreeRow | undefined>()
  readonly onDidChangeTreeData = this.changeEmitter.event
  private readonly model: MeshModel
  private readonly artifacts: ArtifactsModel
  private readonly view: vscode.TreeView<ArtifactsTreeRow>
  private readonly subs: vscode.Disposable[] = []
  private current: ArtifactGroupRow[] = []

  constructor (model: MeshModel, artifacts: ArtifactsModel) {
    this.model = model
    this.artifacts = artifacts
    this.view = vscode.window.createTreeView(ARTIFACTS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true })
    this.subs.push(this.view, this.changeEmitter, model.onDidChange(() => this.update()), artifacts.onDidChange(() => this.update()))
    this.update()
  }

  /** The tree as the view shows it now. */
  get rows (): readonly ArtifactGroupRow[] { return this.current }

  private update (): void {
    this.current = this.artifacts.rows(vscode.l10n.t, this.model.peers)
    const running = this.artifacts.running.length
    this.view.description = running > 0 ? vscode.l10n.t('{0} running', running) : undefined
    void vscode.commands.executeCommand('setContext', 'meshlink.hasArtifacts', this.current.length > 0)
    this.changeEmitter.fire(undefined)
  }

  getTreeItem (row: ArtifactsTreeRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label)
    item.description = row.description
    item.contextValue = row.contextValue
    item.accessibilityInformation = { label: `${row.label}, ${row.description}` }
    if (row.kind === 'group') {
      item.id = `group:${row.id}`
      item.iconPath = GROUP_ICONS[row.id]
      item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded
    } else {
      item.id = `artifact:${row.id}`
      const tip = new vscode.MarkdownString(row.tooltip)
      tip.supportThemeIcons = false
      item.tooltip = tip
      item.iconPath = ICONS[row.icon]
      item.collapsibleState = vscode.TreeItemCollapsibleState.None
    }
    return item
  }

  getChildren (row?: ArtifactsTreeRow): ArtifactsTreeRow[] {
    if (!row) return this.current
    return row.kind === 'group' ? row.artifacts : []
  }

  getParent (row: ArtifactsTreeRow): ArtifactsTreeRow | undefined {
    if (row.kind === 'group') return undefined
    return this.current.find(g => g.artifacts.some(a => a.id === row.id))
  }

  dispose (): void {
    for (const s of this.subs) s.dispose()
  }
}
