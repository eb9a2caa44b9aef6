// Every MeshLink command. They are registered at activation, before the sidecar is up, and each one
// that needs the sidecar explains why it cannot run and offers to start it (never a silent no-op,
// never a hang on a notification). Commands take optional arguments so tests, keybindings and
// other extensions can run them without the input boxes; they return the sidecar's result or
// undefined when they did not complete.
import * as vscode from 'vscode'
import type { MeshCreateResult, MeshJoinResult, MeshLeaveResult, Peer, PeersPingResult } from '../../sidecar/src/gen/protocol-types.ts'
import { commandRunner } from './command-runner.ts'
import type { MeshlinkConfig } from './config.ts'
import { checkInviteCode, InvalidInviteCodeError, normalizeInviteCode } from './invite-code.ts'
import { InputError } from './error-messages.ts'
import type { Notifier } from './notify.ts'
import type { SidecarSupervisor } from './sidecar/supervisor.ts'
import type { MeshModel } from './views/mesh-model.ts'

export interface CommandDeps {
  supervisor: SidecarSupervisor
  model: MeshModel
  notify: Notifier
  log: vscode.LogOutputChannel
  config(): MeshlinkConfig
  /** Fetches node.status + peers.list into the model. */
  refresh(): Promise<void>
  showMeshMap(): void
}

/** The command ids, as contributed in package.json. */
export const COMMANDS = {
  createMesh: 'meshlink.createMesh',
  joinMesh: 'meshlink.joinMesh',
  copyInvite: 'meshlink.copyInvite',
  leaveMesh: 'meshlink.leaveMesh',
  setDisplayName: 'meshlink.setDisplayName',
  showLogs: 'meshlink.showLogs',
  restartSidecar: 'meshlink.restartSidecar',
  showMeshMap: 'meshlink.showMeshMap',
  copyPeerId: 'meshlink.copyPeerId',
  pingPeer: 'meshlink.pingPeer',
  refreshPeers: 'meshlink.refreshPeers'
} as const

const t = vscode.l10n.t

function validName (s: string): string | undefined {
  const v = s.trim()
  if (v.length < 1 || v.length > 64) return t('Use 1 to 64 characters.')
  if (/[\u0000-\u001f\u007f]/.test(v)) return t('Control characters are not allowed.')
  return undefined
}

/** Accepts a Peers view row, a Peer or a peer id string. */
function peerIdOf (arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg
  if (arg && typeof arg === 'object' && typeof (arg as { id?: unknown }).id === 'string') return (arg as { id: string }).id
  return undefined
}

export function registerCommands (d: CommandDeps): vscode.Disposable[] {
  const { supervisor, model, notify } = d
  const { sidecar, run } = commandRunner(supervisor, notify)

  async function pickPeer (arg: unknown, placeHolder: string): Promise<string | undefined> {
    const id = peerIdOf(arg)
    if (id) return id
    const rows = model.rows(t)
    if (rows.length === 0) {
      notify.info(t('There are no other members in this mesh yet.'))
      return undefined
    }
    const pick = await vscode.window.showQuickPick(rows.map(r => ({ label: r.label, description: r.description, detail: r.id, id: r.id })), { placeHolder })
    return pick?.id
  }

  async function copyInvite (): Promise<string | undefined> {
    const r = await run(t('Copy Invite Code'), c => c.call('mesh.invite', {}, { timeoutMs: 10_000 }))
    if (!r) return undefined
    try {
      await vscode.env.clipboard.writeText(r.code)
    } catch (err) {
      // a browser-hosted workbench may refuse the clipboard: show the code to copy by hand
      d.log.warn(`clipboard: ${(err as Error).message}`)
      void vscode.window.showInputBox({ title: t('Invite code for mesh "{0}"', r.mesh.name), prompt: t('Copy this code and send it to a teammate.'), value: r.code, ignoreFocusOut: true })
      return r.code
    }
    notify.info(t('Invite code for mesh "{0}" copied. Send it to a teammate; anyone with it can join the mesh, so share it like a password.', r.mesh.name))
    return r.code
  }

  const handlers: Record<(typeof COMMANDS)[keyof typeof COMMANDS], (...args: unknown[]) => unknown> = {
    [COMMANDS.createMesh]: async (nameArg?: unknown): Promise<MeshCreateResult | undefined> => {
      let name = typeof nameArg === 'string' ? nameArg : undefined
      if (name === undefined) {
        if (!(await sidecar())) return undefined
        const current = model.mesh
        if (current && !current.personal && model.peers.length > 0) {
          const leave = t('Create and Leave "{0}"', current.name)
          const ok = await vscode.window.showWarningMessage(t('Creating a mesh leaves "{0}" and its {1} other members.', current.name, model.peers.length), { modal: true }, leave)
          if (ok !== leave) return undefined
        }
        name = await vscode.window.showInputBox({
          title: t('Create Mesh'),
          prompt: t('A name for the new mesh; teammates see it when they join.'),
          value: model.status ? t('{0}\'s mesh', model.status.name) : '',
          validateInput: validName
        })
        if (name === undefined) return undefined
      } else if (validName(name)) {
        notify.error(new InputError(validName(name)!), t('Create Mesh'))
        return undefined
      }
      const r = await run(t('Create Mesh'), c => c.call('mesh.create', { name: name.trim() }, { timeoutMs: 15_000 }))
      if (r) {
        notify.info(t('Created mesh "{0}". Invite teammates with its invite code.', r.mesh.name), { [t('Copy Invite Code')]: copyInvite })
        void d.refresh()
      }
      return r
    },

    [COMMANDS.joinMesh]: async (codeArg?: unknown): Promise<MeshJoinResult | undefined> => {
      let code = typeof codeArg === 'string' ? codeArg : undefined
      if (code === undefined) {
        if (!(await sidecar())) return undefined
        code = await vscode.window.showInputBox({
          title: t('Join Mesh'),
          prompt: t('Paste the invite code a teammate sent you (MeshLink: Copy Invite Code on their machine).'),
          placeHolder: 'ML1…',
          ignoreFocusOut: true,
          validateInput: (v) => checkInviteCode(v, t)
        })
        if (code === undefined) return undefined
      } else {
        const problem = checkInviteCode(code, t)
        if (problem) {
          notify.error(new InvalidInviteCodeError(problem), t('Join Mesh'))
          return undefined
        }
      }
      const invite = normalizeInviteCode(code)
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Joining the mesh…') },
        () => run(t('Join Mesh'), c => c.call('mesh.join', { code: invite }, { timeoutMs: 45_000 })))
      if (r) {
        if (r.connected) notify.info(t('Joined mesh "{0}".', r.mesh.name))
        else notify.warn(t('Joined mesh "{0}", but the teammate who invited you could not be reached yet ({1}). MeshLink keeps trying.', r.mesh.name, r.error ?? t('no answer')))
        void d.refresh()
      }
      return r
    },

    [COMMANDS.copyInvite]: copyInvite,

    [COMMANDS.leaveMesh]: async (opts?: unknown): Promise<MeshLeaveResult | undefined> => {
      const c = await sidecar()
      if (!c) return undefined
      const current = model.mesh
      const confirm = !(opts && typeof opts === 'object' && (opts as { confirm?: unknown }).confirm === false)
      if (current?.personal) {
        notify.info(t('This machine is not in a shared mesh; there is nothing to leave.'))
        return undefined
      }
      if (confirm) {
        const leave = t('Leave Mesh')
        const ok = await vscode.window.showWarningMessage(t('Leave mesh "{0}"? You will need a new invite code to come back.', current?.name ?? ''), { modal: true }, leave)
        if (ok !== leave) return undefined
      }
      const r = await run(t('Leave Mesh'), cl => cl.call('mesh.leave', {}, { timeoutMs: 15_000 }))
      if (r) {
        notify.info(t('Left mesh "{0}".', r.left.name))
        void d.refresh()
      }
      return r
    },

    [COMMANDS.setDisplayName]: async (nameArg?: unknown): Promise<string | undefined> => {
      let name = typeof nameArg === 'string' ? nameArg : undefined
      if (name === undefined) {
        if (!(await sidecar())) return undefined
        name = await vscode.window.showInputBox({
          title: t('Set Display Name'),
          prompt: t('The name teammates see for this machine.'),
          value: model.status?.name ?? '',
          validateInput: validName
        })
        if (name === undefined) return undefined
      }
      const problem = validName(name)
      if (problem) { notify.error(new InputError(problem), t('Set Display Name')); return undefined }
      const r = await run(t('Set Display Name'), c => c.call('node.setName', { name: name.trim() }, { timeoutMs: 10_000 }))
      if (!r) return undefined
      // keep an explicit setting in step, or the next start would bring the old name back
      const cfg = vscode.workspace.getConfiguration('meshlink')
      if (d.config().displayName !== undefined && d.config().displayName !== r.name) await cfg.update('displayName', r.name, vscode.ConfigurationTarget.Global)
      notify.info(t('Teammates now see this machine as "{0}".', r.name))
      return r.name
    },

    [COMMANDS.showLogs]: () => { d.log.show(true) },

    [COMMANDS.restartSidecar]: async (): Promise<number | undefined> => {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Restarting the MeshLink sidecar…') }, () => supervisor.restart())
      const s = supervisor.state
      if (s.phase === 'running') {
        notify.info(t('The MeshLink sidecar is running (pid {0}).', s.info.pid))
        return s.info.pid
      }
      notify.error(supervisor.downError())
      return undefined
    },

    [COMMANDS.showMeshMap]: () => { d.showMeshMap() },

    [COMMANDS.copyPeerId]: async (arg?: unknown): Promise<string | undefined> => {
      const id = await pickPeer(arg, t('Copy whose peer id?'))
      if (!id) return undefined
      await vscode.env.clipboard.writeText(id)
      vscode.window.setStatusBarMessage(t('Peer id copied'), 3000)
      return id
    },

    [COMMANDS.pingPeer]: async (arg?: unknown): Promise<PeersPingResult | undefined> => {
      const id = await pickPeer(arg, t('Ping which member?'))
      if (!id) return undefined
      const peer: Peer | undefined = model.peers.find(p => p.id === id)
      const label = peer?.name ?? id
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Pinging {0}…', label) },
        () => run(t('Ping {0}', label), c => c.call('peers.ping', { peer: id }, { timeoutMs: 20_000 })))
      if (r) {
        notify.info(t('{0} answered in {1} ms.', label, Math.round(r.rttMs)))
        void d.refresh()
      }
      return r
    },

    [COMMANDS.refreshPeers]: async (): Promise<void> => {
      if (!(await sidecar())) return
      await d.refresh()
    }
  }

  return Object.entries(handlers).map(([id, fn]) => vscode.commands.registerCommand(id, fn))
}
