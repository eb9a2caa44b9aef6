import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Where each run's JSON and Markdown go. */
export const RESULTS_DIR = join(ROOT, 'bench', 'results')
