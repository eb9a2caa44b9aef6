// The questions "Share Port…" asks: which port (listening ones listed on Linux, any number typed),
// under which name, and who may use it (every member unless some are picked).
import * as vscode from 'vscode'
import type { Peer, Service } from '../../../sidecar/src/gen/protocol-types.ts'
import type { ListeningPort, ListeningPorts } from './listening-ports.ts'

const t = vscode.l10n.t

/** services.share's name pattern (schemas/types/service-name.json). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const NAME_MAX = 63

export interface PortChoice {
  port: number
  /** Where the sidecar should connect (::1 for a server listening on IPv6 loopback only). */
  host?: string
  program?: string
}

interface PortItem extends vscode.QuickPickItem { choice: PortChoice }

export function parsePort (s: string): number | undefined {
  const v = s.trim()
  if (!/^\d{1,5}$/.test(v)) return undefined
  const n = Number(v)
  return n >= 1 && n <= 65535 ? n : undefined
}

/**
 * Asks for the port. `skip` maps ports not worth offering (this node's own forwards and mesh
 * listener) to why; `shared` maps ports already shared to their service name.
 */
export async function pickPort (listing: Promise<ListeningPorts>, skip: ReadonlyMap<number, string>, shared: ReadonlyMap<number, string>): Promise<PortChoice | undefined> {
  const qp = vscode.window.createQuickPick<PortItem>()
  qp.title = t('Share Port')
  qp.placeholder = t('Pick a port listening on this machine, or type a port number')
  qp.matchOnDescription = true
  qp.ignoreFocusOut = true
  qp.busy = true
  let listed: PortItem[] = []
  const typedItem = (): PortItem[] => {
    const n = parsePort(qp.value)
    if (n === undefined) return []
    const known = listed.find(i => i.choice.port === n)
    if (known) return []
    return [{ label: String(n), description: skip.get(n) ?? t('Share port {0} (nothing listed listens there now)', n), alwaysShow: true, choice: { port: n } }]
  }
  const refreshItems = (): void => { qp.items = [...typedItem(), ...listed] }
  const item = (p: ListeningPort): PortItem => ({
    label: String(p.port),
    description: [p.program, p.address].filter(Boolean).join(' · '),
    detail: shared.has(p.port) ? t('Already shared as "{0}"', shared.get(p.port)!) : undefined,
    choice: { port: p.port, host: p.host, program: p.program }
  })
  const subs: vscode.Disposable[] = [qp.onDidChangeValue(refreshItems)]
  try {
    return await new Promise<PortChoice | undefined>((resolve) => {
      subs.push(
        qp.onDidAccept(() => {
          const picked = qp.selectedItems[0] ?? qp.activeItems[0]
          const n = parsePort(qp.value)
          if (picked) resolve(picked.choice)
          else if (n !== undefined) resolve({ port: n })
          else return // nothing to share yet: keep asking
          qp.hide()
        }),
        qp.onDidHide(() => resolve(undefined))
      )
      qp.show()
      listing.then((r) => {
        listed = r.ports.filter(p => !skip.has(p.port)).map(item)
        if (!r.supported) qp.placeholder = t('Type the port number to share (listening ports are listed on Linux only)')
        else if (listed.length === 0) qp.placeholder = t('No port listens on this machine\'s loopback now: type the port number to share')
        qp.busy = false
        refreshItems()
      }, () => { qp.busy = false })
    })
  } finally {
    for (const s of subs) s.dispose()
    qp.dispose()
  }
}

/** A default name: the program's (e.g. "vite") when it makes a valid, unused one, else the port. */
export function defaultName (choice: PortChoice, mine: readonly Service[]): string {
  const word = choice.program?.split(' ').pop()?.replace(/\.(m?js|cjs|ts|py|rb)$/, '').replace(/[^A-Za-z0-9._-]/g, '')
  const taken = (n: string): boolean => mine.some(s => s.name === n && s.port !== choice.port)
  if (word && NAME.test(word) && word.length <= NAME_MAX && !taken(word) && !/^(node|python\d*|sh|bash)$/.test(word)) return word
  return String(choice.port)
}

/** Why a name cannot be used, or undefined. */
export function checkServiceName (v: string): string | undefined {
  if (v.length < 1 || v.length > NAME_MAX) return t('Use 1 to {0} characters.', NAME_MAX)
  if (!NAME.test(v)) return t('Use letters, digits, ".", "_" and "-", starting with a letter or digit.')
  return undefined
}

export async function askName (choice: PortChoice, mine: readonly Service[]): Promise<string | undefined> {
  return await vscode.window.showInputBox({
    title: t('Share Port {0}', choice.port),
    prompt: t('A name teammates see for this service.'),
    value: defaultName(choice, mine),
    ignoreFocusOut: true,
    validateInput: (raw) => {
      const v = raw.trim()
      const bad = checkServiceName(v)
      if (bad) return bad
      const same = mine.find(s => s.name === v)
      if (same && same.port !== choice.port) return { message: t('"{0}" is already shared (port {1}): sharing replaces it.', v, same.port), severity: vscode.InputBoxValidationSeverity.Warning }
      return undefined
    }
  }).then(v => v?.trim())
}

/** Who may use it: undefined when cancelled, null for every member, else the picked peer ids. */
export async function askMembers (peers: readonly Peer[], port: number): Promise<string[] | null | undefined> {
  if (peers.length === 0) return null
  const items = [...peers]
    .sort((a, b) => Number(b.connected) - Number(a.connected) || (a.name ?? a.id).localeCompare(b.name ?? b.id))
    .map(p => ({ label: p.name ?? p.id, description: p.connected ? t('online') : t('offline'), detail: p.id, id: p.id }))
  const picked = await vscode.window.showQuickPick(items, {
    title: t('Share Port {0}: who may use it?', port),
    placeHolder: t('Check the members who may use it, or leave all unchecked to share with every member of the mesh'),
    canPickMany: true,
    ignoreFocusOut: true
  })
  if (picked === undefined) return undefined
  return picked.length === 0 ? null : picked.map(p => p.id)
}
