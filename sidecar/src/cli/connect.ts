import { resolveStateDir, statePaths } from '../state/paths.ts'
import { readApiInfo } from '../daemon/api-info.ts'
import { MeshlinkClient } from '../client/client.ts'

/** Finds the running sidecar for the state dir (flag, $MESHLINK_STATE, default) and connects to it. */
export function connect (stateFlag: string | undefined, timeoutMs?: number): MeshlinkClient {
  const dir = resolveStateDir(stateFlag)
  const info = readApiInfo(statePaths(dir).api)
  return new MeshlinkClient(info, timeoutMs === undefined ? {} : { timeoutMs })
}
