// Where a fetch writes: the folder the person chose when it is empty (or does not exist yet),
// else a new folder named after the artifact inside it (`web-dist@main`, `web-dist@main-2`…), since
// artifacts.fetch refuses a non-empty output (CONFLICT) and must never mix into existing files.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** Whether `dir` is missing or empty; false for a non-empty folder or a file. */
export async function emptyOrMissing (dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return true
    if (code === 'ENOTDIR') return false
    throw err
  }
}

/** The output directory for an artifact named `name` fetched into the chosen folder `chosen`. */
export async function outputDir (chosen: string, name: string, isUsable: (dir: string) => Promise<boolean> = emptyOrMissing): Promise<string> {
  if (await isUsable(chosen)) return chosen
  for (let i = 1; i < 1000; i++) {
    const dir = join(chosen, i === 1 ? name : `${name}-${i}`)
    if (await isUsable(dir)) return dir
  }
  throw new Error(`no free folder name for ${name} in ${chosen}`)
}
