/**
 * How modules that must run without VS Code (view models, error mapping) localise their strings:
 * they take a `Translate`, which is `vscode.l10n.t` in the extension and `format` in unit tests.
 */
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string

/** `vscode.l10n.t`'s placeholder syntax (`{0}`, `{1}`…) without any translation. */
export const format: Translate = (message, ...args) =>
  message.replace(/\{(\d+)\}/g, (whole, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : whole))
