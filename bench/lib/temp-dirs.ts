import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Temp dirs (sidecar state, ipc sockets) made by this run, removed at the end, also on failure. */
const made = new Set<string>()

export function tempDir (label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `meshlink-bench-${label}-`))
  made.add(dir)
  return dir
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  made.delete(dir)
}

/** Synchronous, for an 'exit' handler (after the processes using the dirs have been killed). */
export function removeAllTempDirs (): void {
  for (const d of [...made]) {
    try { removeDir(d) } catch { /* best effort */ }
  }
}
