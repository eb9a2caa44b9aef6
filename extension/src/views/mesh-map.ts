import * as vscode from 'vscode'
import type { MeshGraph, MeshModel } from './mesh-model.ts'
import { makeNonce, meshMapHtml } from './mesh-map-html.ts'

/** Strings the page shows, translated here (webviews have no vscode.l10n). */
function pageStrings () {
  return {
    empty: vscode.l10n.t('No mesh to draw: the MeshLink sidecar is not running.'),
    alone: vscode.l10n.t('No other members yet. Invite a teammate with "MeshLink: Copy Invite Code".'),
    summary: vscode.l10n.t('Mesh "{0}": {1} of {2} members online'),
    direct: vscode.l10n.t('direct connection'),
    relayed: vscode.l10n.t('relayed connection'),
    offline: vscode.l10n.t('offline member'),
    you: vscode.l10n.t('this machine')
  }
}

/** The mesh map: one webview panel, redrawn from the model on every change. */
export class MeshMap implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined
  private readonly model: MeshModel
  private readonly media: vscode.Uri
  private readonly subs: vscode.Disposable[] = []
  private lastGraph: MeshGraph | undefined
  private renderedValue: { nodes: number, edges: number } | undefined

  constructor (model: MeshModel, extensionUri: vscode.Uri) {
    this.model = model
    this.media = vscode.Uri.joinPath(extensionUri, 'media')
    this.subs.push(model.onDidChange(() => this.post()))
  }

  /** The graph last sent to the page (undefined while closed). */
  get graph (): MeshGraph | undefined { return this.panel ? this.lastGraph : undefined }
  /** What the page last reported drawing (undefined until it has drawn). */
  get rendered (): { nodes: number, edges: number } | undefined { return this.panel ? this.renderedValue : undefined }

  show (): void {
    if (this.panel) { this.panel.reveal(); return }
    const panel = this.panel = vscode.window.createWebviewPanel('meshlink.meshMap', vscode.l10n.t('MeshLink: Mesh Map'), vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [this.media],
      enableFindWidget: false
    })
    panel.iconPath = vscode.Uri.joinPath(this.media, 'activity-bar.svg')
    const w = panel.webview
    w.html = meshMapHtml({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.media, 'mesh-map.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.media, 'mesh-map.css')).toString(),
      title: vscode.l10n.t('MeshLink: Mesh Map'),
      lang: vscode.env.language
    })
    w.onDidReceiveMessage((m: { type?: string, nodes?: number, edges?: number }) => {
      if (m?.type === 'ready') this.post()
      if (m?.type === 'rendered') this.renderedValue = { nodes: Number(m.nodes) || 0, edges: Number(m.edges) || 0 }
    }, undefined, this.subs)
    panel.onDidDispose(() => { this.panel = undefined; this.lastGraph = undefined; this.renderedValue = undefined }, undefined, this.subs)
    this.post()
  }

  private post (): void {
    if (!this.panel) return
    this.lastGraph = this.model.graph(vscode.l10n.t)
    void this.panel.webview.postMessage({ type: 'graph', graph: this.lastGraph, strings: pageStrings() })
  }

  dispose (): void {
    this.panel?.dispose()
    for (const s of this.subs) s.dispose()
  }
}
