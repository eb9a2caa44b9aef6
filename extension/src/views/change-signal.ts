/** The "something changed" signal of a view model: listeners to call, without vscode (so models test under node:test). */
export class ChangeSignal {
  private readonly listeners = new Set<() => void>()

  on (fn: () => void): { dispose(): void } {
    this.listeners.add(fn)
    return { dispose: () => { this.listeners.delete(fn) } }
  }

  /** Calls every listener; one that unsubscribes while called does not disturb the others. */
  fire (): void {
    for (const fn of [...this.listeners]) fn()
  }
}
