// The Services view's commands (Share Port…, Stop Sharing, Open, Copy Local Address, Close) and
// what the extension says when services and forwards change under it. Like commands.ts: each
// command takes optional arguments (a view row, a Service, an object) so tests, keybindings and
// other extensions can run it without the prompts, and returns what it did or undefined.
import * as vscode from 'vscode'
import type { Forward, Service, ServicesShareResult, ServicesUnshareResult, ForwardsCloseResult } from '../../../sidecar/src/gen/protocol-types.ts'
import type { CommandRunner } from '../command-runner.ts'
import { InputError } from '../error-messages.ts'
import type { Notifier } from '../notify.ts'
import type { MeshModel } from '../views/mesh-model.ts'
import type { ServiceEventOutcome, ServicesModel } from '../views/services-model.ts'
import { failureText, forwardAddress, forwardUrl, type ServiceKind } from '../views/services-rows.ts'
import { probeService } from './http-probe.ts'
import type { ListeningPorts } from './listening-ports.ts'
import { askMembers, askName, checkServiceName, parsePort, pickPort, type PortChoice } from './share-prompts.ts'

export const SERVICE_COMMANDS = {
  share: 'meshlink.shareService',
  unshare: 'meshlink.unshareService',
  open: 'meshlink.openService',
  copyAddress: 'meshlink.copyServiceAddress',
  close: 'meshlink.closeForward',
  refresh: 'meshlink.refreshServices'
} as const

export interface ServiceCommandDeps {
  runner: CommandRunner
  model: MeshModel
  services: ServicesModel
  notify: Notifier
  log: vscode.LogOutputChannel
  /** Fetches everything (node.status, peers, services, forwards) into the models. */
  refresh(): Promise<void>
  listeningPorts(): Promise<ListeningPorts>
  /** Starts `vscode.env.openExternal` (recorded for the API); does not wait for it. */
  openExternal(url: string): void
}

/** What Open did. */
export interface OpenResult {
  forward: Forward
  kind: ServiceKind
  /** Opened in the browser (HTTP/HTTPS services). */
  url: string | undefined
}

const t = vscode.l10n.t
/** How long Open waits for the forward.failed event that explains a connection closed at once. */
const FAILURE_WAIT_MS = 1000

type ServiceRef = { host: string, name: string }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/** A Services view row, a Service, or { host | peer, name | service }. */
function serviceRefOf (arg: unknown): ServiceRef | undefined {
  if (!isObj(arg)) return undefined
  if (arg.kind === 'forward' && isObj(arg.forward)) return { host: String(arg.forward.peer), name: String(arg.forward.service) }
  const host = typeof arg.host === 'string' ? arg.host : typeof arg.peer === 'string' ? arg.peer : undefined
  const name = typeof arg.name === 'string' ? arg.name : typeof arg.service === 'string' ? arg.service : undefined
  return host !== undefined && name !== undefined ? { host, name } : undefined
}

export function registerServiceCommands (d: ServiceCommandDeps): vscode.Disposable[] {
  const { runner, services, notify, model } = d
  const mine = (): Service[] => services.all.filter(s => s.mine)
  const hostName = (s: { host: string, hostName?: string | null }): string => model.peers.find(p => p.id === s.host)?.name ?? s.hostName ?? s.host

  async function copy (text: string, title: string): Promise<string> {
    try {
      await vscode.env.clipboard.writeText(text)
      vscode.window.setStatusBarMessage(t('Copied {0}', text), 3000)
    } catch (err) {
      // a browser-hosted workbench may refuse the clipboard: show it to copy by hand
      d.log.warn(`clipboard: ${(err as Error).message}`)
      void vscode.window.showInputBox({ title, value: text, ignoreFocusOut: true })
    }
    return text
  }

  /** A forward: from a row, an id, a Forward, or the person's pick among the open ones. */
  async function pickForward (arg: unknown, placeHolder: string): Promise<Forward | undefined> {
    if (typeof arg === 'string') return services.forward(arg) ?? { id: arg } as Forward
    if (isObj(arg) && arg.kind === 'forward' && isObj(arg.forward)) return arg.forward as unknown as Forward
    if (isObj(arg) && typeof arg.id === 'string' && typeof arg.localPort === 'number') return arg as unknown as Forward
    const ref = serviceRefOf(arg)
    const open = ref ? services.forwardsOf(ref.host, ref.name) : services.openForwards
    if (open.length === 1) return open[0]
    if (open.length === 0) {
      notify.info(ref ? t('"{0}" is not open on this machine.', ref.name) : t('No service is open on this machine.'))
      return undefined
    }
    const pick = await vscode.window.showQuickPick(open.map(f => ({ label: forwardAddress(f), description: t('{0} on {1}', f.service, f.peerName ?? f.peer), f })), { placeHolder })
    return pick?.f
  }

  /** Waits (briefly) for the event that says why a forward's connection failed. */
  function failureReason (forwardId: string): Promise<string | undefined> {
    const now = services.failureOf(forwardId)
    if (now) return Promise.resolve(failureText(now.code, t))
    return new Promise((resolve) => {
      const timer = setTimeout(() => { sub.dispose(); resolve(undefined) }, FAILURE_WAIT_MS)
      const sub = services.onDidChange(() => {
        const f = services.failureOf(forwardId)
        if (f) { clearTimeout(timer); sub.dispose(); resolve(failureText(f.code, t)) }
      })
    })
  }

  async function share (arg?: unknown): Promise<Service | undefined> {
    let choice: PortChoice | undefined
    let name: string | undefined
    let allow: string[] | null | undefined = null
    const direct = isObj(arg) && typeof arg.port === 'number' && arg.kind === undefined
    if (direct) {
      // { port, name?, allow?, host? }: no questions
      choice = { port: arg.port as number, host: typeof arg.host === 'string' ? arg.host : undefined }
      name = typeof arg.name === 'string' ? arg.name : String(choice.port)
      allow = Array.isArray(arg.allow) && arg.allow.length > 0 ? arg.allow.map(String) : null
      const bad = parsePort(String(choice.port)) === undefined ? t('Type a port number from 1 to 65535.') : checkServiceName(name)
      if (bad) { notify.error(new InputError(bad), t('Share Port')); return undefined }
    } else {
      if (!(await runner.sidecar())) return undefined
      if (typeof arg === 'number' && parsePort(String(arg)) !== undefined) {
        // what listens there tells the default name, and ::1 for a server on IPv6 loopback only
        const listed = (await d.listeningPorts().catch(() => undefined))?.ports.find(p => p.port === arg)
        choice = { port: arg, host: listed?.host, program: listed?.program }
      } else {
        const skip = new Map<number, string>()
        for (const f of services.openForwards) skip.set(f.localPort, t('a MeshLink forward to {0}', f.service))
        for (const a of model.status?.listenAddrs ?? []) {
          const m = /\/tcp\/(\d+)/.exec(a)
          if (m) skip.set(Number(m[1]), t('MeshLink\'s own mesh port'))
        }
        choice = await pickPort(d.listeningPorts(), skip, new Map(mine().map(s => [s.port, s.name])))
      }
      if (!choice) return undefined
      name = await askName(choice, mine())
      if (name === undefined) return undefined
      allow = await askMembers(model.peers, choice.port)
      if (allow === undefined) return undefined
    }
    const params = { port: choice.port, name, ...(allow ? { allow: allow as [string, ...string[]] } : {}), ...(choice.host && choice.host !== '127.0.0.1' ? { host: choice.host } : {}) }
    const r: ServicesShareResult | undefined = await runner.run(t('Share Port {0}', choice.port), c => c.call('services.share', params, { timeoutMs: 15_000 }), 'services.share')
    if (!r) return undefined
    services.applyEvent({ event: 'service.updated', data: { service: r.service } })
    const who = r.service.allow === null
      ? t('every member of the mesh')
      : r.service.allow.map(id => model.peers.find(p => p.id === id)?.name ?? id).join(', ')
    notify.info(t('Sharing "{0}" (port {1}) with {2}.', r.service.name, r.service.port, who))
    return r.service
  }

  async function unshare (arg?: unknown): Promise<Service | undefined> {
    let name = typeof arg === 'string' ? arg : serviceRefOf(arg)?.name
    if (name === undefined) {
      if (!(await runner.sidecar())) return undefined
      const list = mine()
      if (list.length === 0) { notify.info(t('This machine shares no service.')); return undefined }
      const pick = await vscode.window.showQuickPick(list.map(s => ({ label: s.name, description: `:${s.port}`, name: s.name })), { placeHolder: t('Stop sharing which service?') })
      name = pick?.name
      if (name === undefined) return undefined
    }
    const n = name
    const r: ServicesUnshareResult | undefined = await runner.run(t('Stop Sharing "{0}"', n), c => c.call('services.unshare', { name: n }, { timeoutMs: 15_000 }), 'services.unshare')
    if (!r) return undefined
    services.applyEvent({ event: 'service.removed', data: { service: r.service } })
    vscode.window.setStatusBarMessage(t('Stopped sharing "{0}"', n), 4000)
    return r.service
  }

  async function open (arg?: unknown): Promise<OpenResult | undefined> {
    let ref = serviceRefOf(arg)
    if (!ref) {
      if (!(await runner.sidecar())) return undefined
      const usable = services.all.filter(s => !s.mine && services.allows(s))
      if (usable.length === 0) { notify.info(t('No teammate shares a service with this machine yet.')); return undefined }
      const pick = await vscode.window.showQuickPick(usable.map(s => ({ label: s.name, description: `${hostName(s)} · :${s.port}${s.online ? '' : ` · ${t('offline')}`}`, s })), { placeHolder: t('Open which service?') })
      if (!pick) return undefined
      ref = { host: pick.s.host, name: pick.s.name }
    }
    const { host, name } = ref
    const label = `${name} (${hostName({ host, hostName: services.service(host, name)?.hostName })})`
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Opening {0}…', label) },
      () => runner.run(t('Open {0}', label), c => c.call('forwards.open', { peer: host, service: name }, { timeoutMs: 20_000 }), 'forwards.open'))
    if (!r) return undefined
    const f = r.forward
    services.applyEvent({ event: 'forward.opened', data: { forward: f } })
    const address = forwardAddress(f)
    const svc = services.service(host, name)
    if (svc && !svc.online) {
      notify.info(t('{0} is offline. "{1}" is open at {2} and carries connections once it is back.', hostName(svc), name, address), { [t('Copy Local Address')]: () => copy(address, t('Local address of "{0}"', name)) })
      return { forward: f, kind: services.kindOf(f.id) ?? 'tcp', url: undefined }
    }
    // ask the service what it speaks, through the forward, unless we already know it is a web server
    let kind = services.kindOf(f.id)
    if (kind !== 'http' && kind !== 'https') {
      const probeHost = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.slice(0, address.lastIndexOf(':'))
      const p = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Checking what "{0}" speaks…', name) }, () => probeService(probeHost, f.localPort))
      d.log.info(`${name} on ${host} through ${address}: ${p.kind} (${p.detail})`)
      if (p.closedEarly) {
        const why = await failureReason(f.id)
        notify.warn(t('"{0}" is open at {1}, but its connection closed at once: {2}.', name, address, why ?? p.detail), { [t('Copy Local Address')]: () => copy(address, t('Local address of "{0}"', name)), [t('Show Logs')]: () => d.log.show(true) })
        return { forward: f, kind: 'tcp', url: undefined }
      }
      kind = p.kind
      services.setKind(f.id, kind)
    }
    const url = forwardUrl(f, kind)
    if (url) {
      d.openExternal(url)
      vscode.window.setStatusBarMessage(t('Opened {0}', url), 4000)
    } else {
      notify.info(t('"{0}" is open at {1}. It does not speak HTTP, so no browser was opened.', name, address), { [t('Copy Local Address')]: () => copy(address, t('Local address of "{0}"', name)) })
    }
    return { forward: f, kind, url }
  }

  async function copyAddress (arg?: unknown): Promise<string | undefined> {
    const f = await pickForward(arg, t('Copy the local address of which service?'))
    if (!f) return undefined
    const known = services.forward(f.id) ?? f
    if (typeof known.localPort !== 'number') { notify.error(new InputError(t('No open forward has the id {0}.', f.id))); return undefined }
    return copy(forwardAddress(known), t('Local address of "{0}"', known.service))
  }

  async function close (arg?: unknown): Promise<Forward[] | undefined> {
    // a service row closes all of its forwards (usually one)
    const ref = isObj(arg) && arg.kind === 'service' ? serviceRefOf(arg) : undefined
    const targets = ref ? services.forwardsOf(ref.host, ref.name) : []
    if (!ref) {
      const f = await pickForward(arg, t('Close which service?'))
      if (!f) return undefined
      targets.push(f)
    }
    const closed: Forward[] = []
    for (const f of targets) {
      const r: ForwardsCloseResult | undefined = await runner.run(t('Close {0}', f.service ?? f.id), c => c.call('forwards.close', { id: f.id }, { timeoutMs: 15_000 }), 'forwards.close')
      if (!r) continue
      services.applyEvent({ event: 'forward.closed', data: { forward: r.forward, reason: 'closed' } })
      closed.push(r.forward)
    }
    if (closed.length > 0) vscode.window.setStatusBarMessage(t('Closed {0}', closed.map(forwardAddress).join(', ')), 4000)
    return closed.length > 0 ? closed : undefined
  }

  const handlers: Record<(typeof SERVICE_COMMANDS)[keyof typeof SERVICE_COMMANDS], (...args: unknown[]) => unknown> = {
    [SERVICE_COMMANDS.share]: share,
    [SERVICE_COMMANDS.unshare]: unshare,
    [SERVICE_COMMANDS.open]: open,
    [SERVICE_COMMANDS.copyAddress]: copyAddress,
    [SERVICE_COMMANDS.close]: close,
    [SERVICE_COMMANDS.refresh]: async () => { if (await runner.sidecar()) await d.refresh() }
  }
  return Object.entries(handlers).map(([id, fn]) => vscode.commands.registerCommand(id, fn))
}

/** What the person hears about, beyond the view: a teammate's new service, a forward that ended on its own. */
export function reportServiceEvent (o: ServiceEventOutcome, d: Pick<ServiceCommandDeps, 'notify' | 'log' | 'model'>): void {
  const nameOf = (id: string, fallback?: string | null): string => d.model.peers.find(p => p.id === id)?.name ?? fallback ?? id
  if (o.announce) {
    const s = o.announce
    const msg = s.allow === null
      ? t('{0} shares "{1}" (port {2}) with the mesh.', nameOf(s.host, s.hostName), s.name, s.port)
      : t('{0} shares "{1}" (port {2}) with you.', nameOf(s.host, s.hostName), s.name, s.port)
    d.notify.info(msg, { [t('Open')]: () => vscode.commands.executeCommand(SERVICE_COMMANDS.open, { host: s.host, name: s.name }) })
  }
  if (o.closed) {
    const f = o.closed.forward
    d.notify.info(t('"{0}" from {1} is closed at {2}: {3}.', f.service, nameOf(f.peer, f.peerName), forwardAddress(f), o.closed.reason))
  }
  if (o.failed) d.log.warn(`a connection to ${o.failed.forward.service} on ${nameOf(o.failed.forward.peer, o.failed.forward.peerName)} through ${forwardAddress(o.failed.forward)} failed (${o.failed.code}): ${o.failed.reason}`)
  if (o.refused) d.log.warn(`refused ${nameOf(o.refused.peer)}'s connection to "${o.refused.service}": ${o.refused.reason}`)
}
