import * as vscode from 'vscode'
import type { MethodName } from '../../sidecar/src/gen/protocol-types.ts'
import { describeError, type Remedy } from './error-messages.ts'

/** A notification the extension showed (kept for the logs and the e2e suite). */
export interface ShownMessage {
  severity: 'info' | 'warning' | 'error'
  message: string
  /** Set for errors: the protocol error code or the error's name. */
  code?: string
  at: number
}

export interface RemedyHandlers {
  startSidecar(): void
  showLogs(): void
}

const KEEP = 50

/**
 * Shows notifications without waiting for them: a command must never hang on a toast nobody
 * clicks. Buttons run their action when clicked. Every message also goes to the log.
 */
export class Notifier {
  private readonly log: vscode.LogOutputChannel
  private readonly handlers: RemedyHandlers
  private readonly history: ShownMessage[] = []

  constructor (log: vscode.LogOutputChannel, handlers: RemedyHandlers) {
    this.log = log
    this.handlers = handlers
  }

  /** The latest notifications, oldest first. */
  get shown (): readonly ShownMessage[] { return this.history }

  private record (m: Omit<ShownMessage, 'at'>): void {
    this.history.push({ ...m, at: Date.now() })
    if (this.history.length > KEEP) this.history.shift()
  }

  /** Shows an info message; `buttons` maps a label to what it does. */
  info (message: string, buttons: Record<string, () => unknown> = {}): void {
    this.record({ severity: 'info', message })
    this.log.info(message)
    this.show(vscode.window.showInformationMessage, message, buttons)
  }

  warn (message: string, buttons: Record<string, () => unknown> = {}): void {
    this.record({ severity: 'warning', message })
    this.log.warn(message)
    this.show(vscode.window.showWarningMessage, message, buttons)
  }

  /** Shows any error as a person-readable message with the buttons its remedies call for; `method`: the API method that failed. */
  error (err: unknown, context?: string, method?: MethodName): void {
    const d = describeError(err, vscode.l10n.t, method)
    const message = context ? `${context}: ${d.message}` : d.message
    this.record({ severity: 'error', message, code: d.code ?? (err instanceof Error ? err.name : undefined) })
    this.log.error(message)
    if (err instanceof Error && err.stack && d.code === undefined) this.log.debug(err.stack)
    const buttons: Record<string, () => unknown> = {}
    for (const r of d.remedies) buttons[this.remedyLabel(r)] = () => this.runRemedy(r)
    this.show(vscode.window.showErrorMessage, message, buttons)
  }

  private remedyLabel (r: Remedy): string {
    switch (r.kind) {
      case 'showLogs': return vscode.l10n.t('Show Logs')
      case 'startSidecar': return vscode.l10n.t('Start Sidecar')
      case 'restartSidecar': return vscode.l10n.t('Restart Sidecar')
      case 'openSetting': return vscode.l10n.t('Open Settings')
    }
  }

  private runRemedy (r: Remedy): unknown {
    switch (r.kind) {
      case 'showLogs': return this.handlers.showLogs()
      case 'startSidecar':
      case 'restartSidecar': return this.handlers.startSidecar()
      case 'openSetting': return vscode.commands.executeCommand('workbench.action.openSettings', r.setting)
    }
  }

  private show (fn: (message: string, ...items: string[]) => Thenable<string | undefined>, message: string, buttons: Record<string, () => unknown>): void {
    fn(message, ...Object.keys(buttons)).then((choice) => {
      if (choice !== undefined) void Promise.resolve(buttons[choice]?.()).catch((err: unknown) => this.error(err))
    }, () => { /* the window closed */ })
  }
}
