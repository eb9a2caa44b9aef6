import { userInfo, hostname } from 'node:os'
import { readJsonFile, writeJsonFileAtomic } from '../state/json-file.ts'

/** Node settings that persist in config.json. */
export interface NodeConfig {
  /** Display name; defaults to user@host. */
  name: string
  /** The TCP port the mesh listener last bound, reused so peers' stored addresses stay valid. */
  listenPort?: number
  /** Size cap of the artifact store in bytes (default store/constants.ts DEFAULT_STORE_CAP_BYTES). */
  storeCapBytes?: number
  /** Cap on bytes/s this node serves to members (artifact chunks); absent: none. */
  maxUploadBytesPerSec?: number
}

/** user@host, trimmed to the 64 characters a display name may have. */
export function defaultDisplayName (): string {
  let user = 'user'
  try { user = userInfo().username || user } catch { /* no passwd entry (containers) */ }
  return `${user}@${hostname().split('.')[0] || 'host'}`.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 64)
}

export function loadConfig (path: string): NodeConfig {
  const o = (readJsonFile(path) ?? {}) as Partial<NodeConfig>
  return {
    name: typeof o.name === 'string' && o.name.length > 0 && o.name.length <= 64 ? o.name : defaultDisplayName(),
    ...(Number.isInteger(o.listenPort) && o.listenPort! > 0 && o.listenPort! < 65536 ? { listenPort: o.listenPort } : {}),
    ...(Number.isSafeInteger(o.storeCapBytes) && o.storeCapBytes! > 0 ? { storeCapBytes: o.storeCapBytes } : {}),
    ...(Number.isSafeInteger(o.maxUploadBytesPerSec) && o.maxUploadBytesPerSec! > 0 ? { maxUploadBytesPerSec: o.maxUploadBytesPerSec } : {})
  }
}

export function saveConfig (path: string, cfg: NodeConfig): void {
  writeJsonFileAtomic(path, cfg, 0o600)
}
