// The e2e suite's entry, in the shape @vscode/test-electron and VS Code's web test harness expect:
// a module whose run() runs mocha inside the extension host and rejects when a test failed.
// MESHLINK_E2E_MODE picks the tests: "dev" (the extension from its source folder, full scenario)
// or "installed" (the extension installed from the linux-x64 .vsix).
import Mocha from 'mocha'
import { defineArtifactsSuite } from './artifacts.e2e.ts'
import { defineDevSuite } from './dev.e2e.ts'
import { defineInstalledSuite } from './installed.e2e.ts'
import { defineServicesSuite } from './services.e2e.ts'

export function run (): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' })
  // the suites are bundled into this file: define them against mocha's globals instead of addFile()
  mocha.suite.emit('pre-require', globalThis, 'meshlink-e2e', mocha)
  if (process.env.MESHLINK_E2E_MODE === 'installed') defineInstalledSuite()
  else {
    defineDevSuite()
    defineServicesSuite()
    defineArtifactsSuite()
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // one machine-readable line for scripts/test-extension.mjs
      console.log(`@@result passed=${runner.stats?.passes ?? 0} failed=${runner.stats?.failures ?? 0} pending=${runner.stats?.pending ?? 0}`)
      if (failures > 0) reject(new Error(`${failures} e2e tests failed`))
      else resolve()
    })
  })
}
