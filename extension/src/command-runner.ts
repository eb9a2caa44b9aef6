// How a command reaches the sidecar: it waits for one that is starting, and explains (with a
// button to start it) when there is none; API errors become notifications. Shared by every
// command module.
import * as vscode from 'vscode'
import type { MeshlinkClient } from '../../sidecar/src/client/client.ts'
import type { MethodName } from '../../sidecar/src/gen/protocol-types.ts'
import type { Notifier } from './notify.ts'
import type { SidecarSupervisor } from './sidecar/supervisor.ts'

/** How long a command waits for a sidecar that is starting. */
const WAIT_FOR_START_MS = 30_000

export interface CommandRunner {
  /** The client, waiting for a starting sidecar; undefined (after telling the person why) when it is down. */
  sidecar(): Promise<MeshlinkClient | undefined>
  /** Runs an API call, turning its errors into a notification titled `what`; undefined on failure. `method` picks method-specific messages. */
  run<T>(what: string, fn: (c: MeshlinkClient) => Promise<T>, method?: MethodName): Promise<T | undefined>
}

export function commandRunner (supervisor: SidecarSupervisor, notify: Notifier): CommandRunner {
  async function sidecar (): Promise<MeshlinkClient | undefined> {
    const now = supervisor.client
    if (now) return now
    const phase = supervisor.state.phase
    if (phase === 'starting' || phase === 'restarting') {
      try {
        return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Waiting for the MeshLink sidecar…') }, () => supervisor.whenRunning(WAIT_FOR_START_MS))
      } catch (err) {
        notify.error(err)
        return undefined
      }
    }
    notify.error(supervisor.downError())
    return undefined
  }

  async function run<T> (what: string, fn: (c: MeshlinkClient) => Promise<T>, method?: MethodName): Promise<T | undefined> {
    const c = await sidecar()
    if (!c) return undefined
    try {
      return await fn(c)
    } catch (err) {
      notify.error(err, what, method)
      return undefined
    }
  }

  return { sidecar, run }
}
