/** The CLI's exit codes (documented in `meshlink --help`). */
export const EXIT = {
  OK: 0,
  /** the sidecar answered with an error */
  FAILED: 1,
  /** bad command line */
  USAGE: 2,
  /** no sidecar runs for the state dir, or it did not answer */
  NOT_RUNNING: 3,
  /** `up`: another sidecar already runs for the state dir */
  ALREADY_RUNNING: 4
} as const

/** A command-line mistake: printed with the command's usage line, exit 2. */
export class UsageError extends Error {
  readonly name = 'UsageError'
}
