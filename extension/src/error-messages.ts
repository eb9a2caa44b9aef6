// The one place that turns errors into what a person reads, as syncthing's errors.go does for its
// wire codes. Protocol errors are matched on their code (schemas/types/error-code.json), never on
// their message; the sidecar's message is shown as a detail because it names the specific problem.
import type { ErrorCode, MethodName } from '../../sidecar/src/gen/protocol-types.ts'
import type { Translate } from './l10n.ts'
import { transferFailureText, type TransferErrorCode } from './views/artifacts-rows.ts'

/** What the person can do about an error: becomes a button on the notification. */
export type Remedy =
  | { kind: 'showLogs' }
  | { kind: 'startSidecar' }
  | { kind: 'restartSidecar' }
  | { kind: 'openSetting', setting: string }

export interface ErrorDescription {
  message: string
  remedies: Remedy[]
  /** The protocol error code, when the sidecar answered with one (or a failed transfer's code). */
  code?: ErrorCode | TransferErrorCode
}

/** A publish or fetch that ended with transfer.failed: `code` from the transfer's error, `message` the sidecar's detail. */
export class TransferFailedError extends Error {
  readonly name = 'TransferFailedError'
  readonly code: TransferErrorCode
  readonly kind: 'publish' | 'fetch'
  constructor (code: TransferErrorCode, kind: 'publish' | 'fetch', message: string) {
    super(message)
    this.code = code
    this.kind = kind
  }
}

/** Input a person typed that cannot be used; its message says why and is shown as is. */
export class InputError extends Error {
  readonly name = 'InputError'
}

const LOGS: Remedy = { kind: 'showLogs' }
const START: Remedy = { kind: 'startSidecar' }
const RESTART: Remedy = { kind: 'restartSidecar' }

/** Every protocol error code → message template ({0} is the sidecar's detail) and remedies. `satisfies` makes a new code in the schema a compile error here. */
const CODE_MESSAGES = {
  INVALID_INVITE: ['That is not a valid MeshLink invite code: {0}', []],
  INVALID_PARAMS: ['MeshLink did not accept that: {0}', []],
  NOT_FOUND: ['Not found: {0}', []],
  PEER_UNREACHABLE: ['The peer could not be reached: {0}. It may be offline or on another network.', []],
  FORBIDDEN: ['Not allowed: {0}', []],
  CONFLICT: ['That conflicts with something already there: {0}', []],
  NOT_READY: ['The MeshLink sidecar is still starting. Try again in a moment.', []],
  TIMEOUT: ['The operation timed out: {0}', [LOGS]],
  UNAUTHORIZED: ['The MeshLink sidecar rejected this window\'s API token (was it restarted by someone else?). Restart the sidecar.', [RESTART, LOGS]],
  INTERNAL: ['The MeshLink sidecar failed: {0}', [LOGS]],
  PARSE_ERROR: ['The MeshLink sidecar could not read a request ({0}); the extension and sidecar versions may not match.', [LOGS]],
  INVALID_REQUEST: ['The MeshLink sidecar rejected a request ({0}); the extension and sidecar versions may not match.', [LOGS]],
  UNSUPPORTED_VERSION: ['The MeshLink sidecar speaks another protocol version ({0}); update the extension or the sidecar.', [LOGS]],
  METHOD_NOT_FOUND: ['The MeshLink sidecar does not know this operation ({0}); it may be older than the extension.', [LOGS]],
  MESSAGE_TOO_LARGE: ['The request was too large for the MeshLink sidecar ({0}).', []]
} as const satisfies Record<ErrorCode, readonly [string, readonly Remedy[]]>

/**
 * Where a code means something specific to the method that returned it, a message that says what
 * happened and what to do ({0} is the sidecar's detail, which names the service, port or member).
 */
const METHOD_MESSAGES: { readonly [M in MethodName]?: { readonly [C in ErrorCode]?: readonly [string, readonly Remedy[]] } } = {
  'services.share': {
    NOT_FOUND: ['One of the allowed members is not in this mesh: {0}. Pick members from the list, or share with everyone.', []],
    CONFLICT: ['This machine cannot share another service: {0}. Stop sharing one first.', []]
  },
  'services.unshare': {
    NOT_FOUND: ['This machine no longer shares that service ({0}).', []]
  },
  'forwards.open': {
    FORBIDDEN: ['The host does not allow this machine to use that service ({0}). Ask them to share it with you.', []],
    NOT_FOUND: ['The host no longer shares that service ({0}).', []],
    PEER_UNREACHABLE: ['The host is offline or cannot be reached ({0}). Open the service again once it is back.', []],
    CONFLICT: ['The local port is taken ({0}). Stop what uses it, or open the service on another port.', []]
  },
  'forwards.close': {
    NOT_FOUND: ['That forward is already closed ({0}).', []]
  },
  'artifacts.publish': {
    NOT_FOUND: ['That folder does not exist ({0}).', []]
  },
  'artifacts.fetch': {
    NOT_FOUND: ['No member of the mesh has that artifact ({0}).', []],
    PEER_UNREACHABLE: ['The members that hold that artifact are offline or cannot be reached ({0}). Fetch again when one is back.', []],
    CONFLICT: ['The destination folder is not empty ({0}). Choose an empty or new folder.', []]
  },
  'artifacts.remove': {
    NOT_FOUND: ['That artifact is not on this machine ({0}).', []],
    CONFLICT: ['That artifact is being published or fetched ({0}). Cancel the transfer first.', []]
  },
  'transfers.cancel': {
    NOT_FOUND: ['That transfer is not running any more ({0}).', []]
  }
}

function isProtocolError (err: unknown): err is Error & { code: ErrorCode } {
  return err instanceof Error && err.name === 'MeshlinkError' && typeof (err as { code?: unknown }).code === 'string' && ((err as unknown as { code: string }).code in CODE_MESSAGES)
}

/** A person-readable message and remedies for any error a command can meet; `method` is the API method that failed, when known. */
export function describeError (err: unknown, t: Translate, method?: MethodName): ErrorDescription {
  if (isProtocolError(err)) {
    const [template, remedies] = (method !== undefined ? METHOD_MESSAGES[method]?.[err.code] : undefined) ?? CODE_MESSAGES[err.code]
    return { message: t(template, err.message.replace(/\.$/, '')), remedies: [...remedies], code: err.code }
  }
  if (!(err instanceof Error)) return { message: t('MeshLink failed: {0}', String(err)), remedies: [LOGS] }
  const e = err as Error & Record<string, unknown>
  switch (err.name) {
    case 'InputError':
      return { message: err.message, remedies: [] }
    case 'TransferFailedError': {
      const f = err as TransferFailedError
      const detail = err.message.replace(/\.$/, '')
      return { message: detail ? t('{0} ({1}).', transferFailureText(f.code, f.kind, t), detail) : transferFailureText(f.code, f.kind, t), remedies: f.code === 'INTERNAL' || f.code === 'IO_ERROR' ? [LOGS] : [], code: f.code }
    }
    case 'InvalidInviteCodeError':
      return { message: t('That is not a valid MeshLink invite code: {0}', err.message), remedies: [] }
    case 'SidecarDownError':
      return { message: t('The MeshLink sidecar is not running: {0}', err.message), remedies: [START, LOGS] }
    case 'ClientTimeoutError':
      return { message: t('The MeshLink sidecar did not answer in time. It may be busy or stuck.'), remedies: [RESTART, LOGS] }
    case 'NodeTooOldError':
      return e.fromSetting
        ? { message: t('meshlink.sidecar.nodePath points to Node.js {0} ({1}); the MeshLink sidecar needs Node.js 22 or newer. Set meshlink.sidecar.nodePath to a Node.js 22+ executable, or clear it to use VS Code\'s own runtime.', String(e.version), String(e.runtime)), remedies: [{ kind: 'openSetting', setting: 'meshlink.sidecar.nodePath' }] }
        : { message: t('This VS Code runs extensions on Node.js {0}; the MeshLink sidecar needs Node.js 22 or newer. Update VS Code (1.101 or later), or set meshlink.sidecar.nodePath to a Node.js 22+ executable.', String(e.version)), remedies: [{ kind: 'openSetting', setting: 'meshlink.sidecar.nodePath' }] }
    case 'SidecarNotFoundError':
      return e.setting === 'MESHLINK_SIDECAR'
        ? { message: t('The MESHLINK_SIDECAR environment variable points to {0}, which does not exist. Fix or unset it and restart VS Code.', String(e.path)), remedies: [] }
        : e.setting !== undefined
          ? { message: t('{0} points to {1}, which does not exist. Fix the setting or clear it.', String(e.setting), String(e.path)), remedies: [{ kind: 'openSetting', setting: String(e.setting) }] }
          : { message: t('The bundled MeshLink sidecar is missing ({0}). Reinstall the extension, or set meshlink.sidecar.path.', String(e.path)), remedies: [{ kind: 'openSetting', setting: 'meshlink.sidecar.path' }] }
    case 'SidecarExitedError':
    case 'SidecarGaveUpError':
    case 'HandshakeError':
      return { message: t('The MeshLink sidecar could not start: {0}', err.message), remedies: [RESTART, LOGS] }
    case 'NotRunningError':
      return { message: t('No MeshLink sidecar is running: {0}', err.message), remedies: [START, LOGS] }
    default:
      return { message: t('MeshLink failed: {0}', err.message), remedies: [LOGS] }
  }
}
