// Wiring only: builds the parts, connects them, and returns a small API (used by the e2e suite and
// by the capability extensions that come later). Activation does no I/O and does not wait for the
// sidecar: it starts right after activate() returns.
import * as vscode from 'vscode'
import { resolveStateDir } from '../../sidecar/src/state/paths.ts'
import { registerArtifactCommands } from './artifacts/artifact-commands.ts'
import { commandRunner } from './command-runner.ts'
import { registerCommands, COMMANDS } from './commands.ts'
import { absoluteStateDir, readConfig, RESTART_SETTINGS, upArgs, type MeshlinkConfig } from './config.ts'
import { describeError } from './error-messages.ts'
import { createLog } from './log.ts'
import { Notifier, type ShownMessage } from './notify.ts'
import { listeningPorts, type ListeningPorts } from './services/listening-ports.ts'
import { registerServiceCommands, reportServiceEvent } from './services/service-commands.ts'
import { checkLaunchFiles, checkRuntime, resolveSidecar } from './sidecar/resolve.ts'
import { SidecarSupervisor, type StartPlan, type SupervisorState } from './sidecar/supervisor.ts'
import { ArtifactsModel } from './views/artifacts-model.ts'
import type { ArtifactGroupRow } from './views/artifacts-rows.ts'
import { ArtifactsView } from './views/artifacts-view.ts'
import { MeshMap } from './views/mesh-map.ts'
import { MeshModel, type MeshGraph, type PeerRow, type SidecarPhase, type StatusBarContent } from './views/mesh-model.ts'
import { PeersView } from './views/peers-view.ts'
import { ServicesModel } from './views/services-model.ts'
import type { HostRow } from './views/services-rows.ts'
import { ServicesView } from './views/services-view.ts'
import { StatusBar } from './views/status-bar.ts'

const moduleLoadedAt = performance.now()

/** How often RTTs, last-seen times and forwards' connection counts are refreshed while the sidecar runs (events cover the rest). */
const REFRESH_MS = 15_000

/** What `vscode.extensions.getExtension('meshlink.meshlink').exports` gives. */
export interface MeshlinkApi {
  /** activate()'s own duration, in ms. */
  readonly activationMs: number
  /** From activation to the first running sidecar, in ms (undefined until then). */
  readonly sidecarReadyMs: number | undefined
  readonly supervisor: SidecarSupervisor
  readonly model: MeshModel
  /** The Peers view's rows as shown. */
  peersViewRows(): readonly PeerRow[]
  /** The status bar item's content as shown. */
  statusBar(): StatusBarContent
  /** The graph the open mesh map shows (undefined while closed). */
  meshMapGraph(): MeshGraph | undefined
  /** What the mesh map page reported drawing last (undefined until it drew). */
  meshMapRendered(): { nodes: number, edges: number } | undefined
  /** The latest notifications. */
  messages(): readonly ShownMessage[]
  /** Services and this node's forwards. */
  readonly services: ServicesModel
  /** The Services view's tree as shown. */
  servicesViewRows(): readonly HostRow[]
  /** Artifacts here and in the mesh, and this run's transfers. */
  readonly artifacts: ArtifactsModel
  /** The Artifacts view's tree as shown. */
  artifactsViewRows(): readonly ArtifactGroupRow[]
  /** URLs the extension asked VS Code to open in a browser, oldest first. */
  externalOpens(): readonly string[]
  /** TCP ports listening on this machine's loopback (Linux; elsewhere `supported: false`). */
  listeningPorts(): Promise<ListeningPorts>
  /** Fetches node.status, peers.list, services.list, forwards.list, artifacts.list and transfers.list into the views now. */
  refresh(): Promise<void>
}

function phaseOf (s: SupervisorState): SidecarPhase {
  return s.phase
}

async function plan (extensionPath: string, cfg: MeshlinkConfig, signal: AbortSignal): Promise<StartPlan> {
  const launch = resolveSidecar({ env: process.env, settingPath: cfg.sidecarPath, nodePath: cfg.nodePath, extensionPath })
  checkLaunchFiles(launch)
  await checkRuntime(launch, { signal })
  const stateDir = resolveStateDir(cfg.stateDir !== undefined ? absoluteStateDir(cfg.stateDir) : undefined)
  return { stateDir, launch, args: upArgs(cfg, stateDir, process.pid), env: process.env }
}

export function activate (context: vscode.ExtensionContext): MeshlinkApi {
  const started = performance.now()
  const t = vscode.l10n.t
  const log = createLog()
  const config = (): MeshlinkConfig => readConfig(k => vscode.workspace.getConfiguration('meshlink').get(k))
  const model = new MeshModel()
  const services = new ServicesModel()
  const artifacts = new ArtifactsModel()
  const supervisor = new SidecarSupervisor({ plan: signal => plan(context.extensionPath, config(), signal), log })
  const notify = new Notifier(log, {
    startSidecar: () => vscode.commands.executeCommand(COMMANDS.restartSidecar),
    showLogs: () => log.show(true)
  })
  const peersView = new PeersView(model)
  const statusBar = new StatusBar(model)
  const meshMap = new MeshMap(model, context.extensionUri)
  const servicesView = new ServicesView(model, services, () => { if (supervisor.client) void refresh() })
  const artifactsView = new ArtifactsView(model, artifacts)
  const opened: string[] = []

  const refresh = async (): Promise<void> => {
    const c = supervisor.client
    if (!c) return
    try {
      const [status, list] = await Promise.all([c.call('node.status', {}, { timeoutMs: 10_000 }), c.call('peers.list', {}, { timeoutMs: 10_000 })])
      if (supervisor.client !== c) return
      model.setSnapshot(status, list.peers)
      const [svc, fwd] = await Promise.all([c.call('services.list', {}, { timeoutMs: 10_000 }), c.call('forwards.list', {}, { timeoutMs: 10_000 })])
      if (supervisor.client === c) services.setSnapshot({ services: svc.services, forwards: fwd.forwards, selfId: status.peerId, connected: list.peers.filter(p => p.connected).map(p => p.id) })
      const [arts, trs] = await Promise.all([c.call('artifacts.list', {}, { timeoutMs: 10_000 }), c.call('transfers.list', {}, { timeoutMs: 10_000 })])
      if (supervisor.client === c) artifacts.setSnapshot({ artifacts: arts.artifacts, transfers: trs.transfers })
    } catch (err) {
      log.warn(`refreshing the mesh state failed: ${(err as Error).message}`)
    }
  }

  let sidecarReadyMs: number | undefined
  supervisor.onDidChangeState((s) => {
    if (s.phase === 'running' && sidecarReadyMs === undefined) {
      sidecarReadyMs = performance.now() - started
      log.info(`sidecar running ${sidecarReadyMs.toFixed(0)} ms after activation`)
    }
    const detail = s.phase === 'restarting'
      ? t('Restarting in {0} s (attempt {1}).', Math.ceil(s.delayMs / 1000), s.attempt)
      : s.phase === 'failed' ? describeError(s.error, t).message : undefined
    model.setPhase(phaseOf(s), detail)
    if (s.phase !== 'running') { services.reset(); artifacts.reset() }
    if (s.phase === 'running') void refresh()
    if (s.phase === 'failed') notify.error(s.error)
  })
  supervisor.onEvent((ev) => {
    const meshChanged = model.applyEvent(ev)
    const outcome = services.applyEvent(ev)
    const artifactOutcome = artifacts.applyEvent(ev)
    if (meshChanged || outcome.refresh || artifactOutcome.refresh) void refresh()
    reportServiceEvent(outcome, { notify, log, model })
  })
  supervisor.onCrash(({ reason, delayMs }) => {
    if (delayMs === undefined) return // 'failed' is reported above
    notify.warn(t('The MeshLink sidecar stopped ({0}); restarting it in {1} s.', reason, Math.max(1, Math.round(delayMs / 1000))), { [t('Show Logs')]: () => log.show(true) })
  })

  const timer = setInterval(() => { if (supervisor.client) void refresh() }, REFRESH_MS)

  const onConfig = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('meshlink.displayName')) {
      const name = config().displayName
      const c = supervisor.client
      if (name !== undefined && c && model.status?.name !== name) {
        c.call('node.setName', { name }, { timeoutMs: 10_000 }).catch((err: unknown) => notify.error(err, t('Set Display Name')))
      }
    }
    if (RESTART_SETTINGS.some(k => e.affectsConfiguration(`meshlink.${k}`))) {
      if (supervisor.state.phase === 'running') {
        notify.info(t('Restart the MeshLink sidecar to use the new settings.'), { [t('Restart Sidecar')]: () => vscode.commands.executeCommand(COMMANDS.restartSidecar) })
      } else if (supervisor.state.phase === 'failed' || supervisor.state.phase === 'stopped') {
        void supervisor.start()
      }
    }
  })

  context.subscriptions.push(
    log, peersView, statusBar, meshMap, servicesView, artifactsView, onConfig,
    ...registerCommands({ supervisor, model, notify, log, config, refresh, showMeshMap: () => meshMap.show() }),
    ...registerServiceCommands({
      runner: commandRunner(supervisor, notify),
      model,
      services,
      notify,
      log,
      refresh,
      listeningPorts: () => listeningPorts(),
      openExternal: (url) => {
        opened.push(url)
        log.info(`opening ${url} in the browser`)
        // not awaited: a command must not hang on whatever the workbench asks the person first
        vscode.env.openExternal(vscode.Uri.parse(url)).then((ok) => { if (!ok) log.warn(`the browser did not open ${url}`) }, (err: unknown) => log.warn(`opening ${url}: ${(err as Error).message}`))
      }
    }),
    ...registerArtifactCommands({ runner: commandRunner(supervisor, notify), model, artifacts, notify, log, refresh }),
    { dispose: () => { clearInterval(timer); supervisor.dispose() } }
  )

  // the handshake takes a second or two: never inside activate()
  setTimeout(() => { void supervisor.start() }, 0)

  const activationMs = performance.now() - started
  log.info(`MeshLink ${context.extension.packageJSON.version as string} activated in ${activationMs.toFixed(1)} ms (${(performance.now() - moduleLoadedAt).toFixed(1)} ms since the module loaded)`)

  return {
    activationMs,
    get sidecarReadyMs () { return sidecarReadyMs },
    supervisor,
    model,
    peersViewRows: () => peersView.rows,
    statusBar: () => statusBar.shown,
    meshMapGraph: () => meshMap.graph,
    meshMapRendered: () => meshMap.rendered,
    messages: () => notify.shown,
    services,
    servicesViewRows: () => servicesView.rows,
    artifacts,
    artifactsViewRows: () => artifactsView.rows,
    externalOpens: () => opened,
    listeningPorts: () => listeningPorts(),
    refresh
  }
}

export function deactivate (): void {
  // everything is in context.subscriptions
}
