/** One command-line option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  help: string
}

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>

/** A `meshlink` sub-command. */
export interface Command {
  name: string
  summary: string
  usage: string
  options: Record<string, OptionSpec>
  /** How many positional arguments it takes. @default { min: 0, max: 0 } */
  positionals?: { min: number, max: number, names: string }
  /** Returns the exit code. */
  run(values: OptionValues, positionals: string[]): Promise<number>
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  state: { type: 'string', help: 'state dir of the sidecar (default $MESHLINK_STATE or the platform default)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' }
}

/** Options of the commands that talk to a running sidecar. */
export const CLIENT_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: 'print the API result as JSON (for scripts)' },
  timeout: { type: 'string', help: 'seconds to wait for the sidecar (default 35)' }
}
