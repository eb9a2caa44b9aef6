// Types of scripts/dependency-patches.mjs (imported by the esbuild config and by a unit test).
import type { Plugin } from 'esbuild'

/** One source patch: `from` is replaced by `to` in the dependency file `file` (exactly once). */
export interface DependencyPatch { why: string, file: string, from: string, to: string }
export const PATCHES: DependencyPatch[]
/** An esbuild plugin applying PATCHES; the build fails unless every patch applied exactly once. */
export function dependencyPatches (): Plugin
