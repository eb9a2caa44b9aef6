import * as vscode from 'vscode'
import type { MeshlinkApi } from '../../../extension/src/extension.ts'

export const EXTENSION_ID = 'meshlink.meshlink'

/** Polls `fn` until it returns a truthy value; bounded. */
export async function waitFor<T> (what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) { last = err }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Asks the runner (scripts/test-extension.mjs) for a screenshot of the workbench, and gives it time. */
export async function screenshot (name: string): Promise<void> {
  console.log(`@@screenshot ${name}`)
  await sleep(1500)
}

/** The activated extension's API. */
export async function meshlink (): Promise<{ ext: vscode.Extension<MeshlinkApi>, api: MeshlinkApi }> {
  const ext = await waitFor('the MeshLink extension to be installed', () => vscode.extensions.getExtension<MeshlinkApi>(EXTENSION_ID), 20_000)
  const api = await ext.activate()
  return { ext, api }
}
