import { test } from 'node:test'
import assert from 'node:assert/strict'
import { absoluteStateDir, expandHome, readConfig, upArgs } from './config.ts'

const getter = (o: Record<string, unknown>) => (k: string) => o[k]

test('readConfig: defaults when nothing is set', () => {
  assert.deepEqual(readConfig(getter({})), {
    displayName: undefined, stateDir: undefined, listenPort: undefined, listenAddresses: [], bootstrap: [], mdns: true, sidecarPath: undefined, nodePath: undefined
  })
})

test('readConfig: trims, drops empty strings and invalid values', () => {
  const c = readConfig(getter({ displayName: '  ada ', stateDir: '   ', listenPort: 70000, bootstrap: ['', ' /ip4/1.2.3.4/tcp/1/p2p/x ', 7], mdns: false, 'sidecar.path': '~/ml.mjs' }))
  assert.equal(c.displayName, 'ada')
  assert.equal(c.stateDir, undefined)
  assert.equal(c.listenPort, undefined)
  assert.deepEqual(c.bootstrap, ['/ip4/1.2.3.4/tcp/1/p2p/x'])
  assert.equal(c.mdns, false)
  assert.equal(c.sidecarPath, expandHome('~/ml.mjs'))
})

test('expandHome: ~ and ${userHome}', () => {
  assert.equal(expandHome('~', '/h'), '/h')
  assert.equal(expandHome('~/x/y', '/h'), '/h/x/y')
  assert.equal(expandHome('${userHome}/s', '/h'), '/h/s')
  assert.equal(expandHome('/abs', '/h'), '/abs')
})

test('upArgs: handshake, parent pid, state, then options', () => {
  const base = readConfig(getter({}))
  assert.deepEqual(upArgs(base, '/s', 42), ['up', '--handshake', '--parent-pid', '42', '--state', '/s'])
  const full = readConfig(getter({ displayName: 'ada', listenPort: 4500, bootstrap: ['/ip4/10.0.0.2/tcp/4455/p2p/Qm'], mdns: false }))
  assert.deepEqual(upArgs(full, '/s', 1), ['up', '--handshake', '--parent-pid', '1', '--state', '/s', '--name', 'ada', '--listen', '/ip4/0.0.0.0/tcp/4500', '--bootstrap', '/ip4/10.0.0.2/tcp/4455/p2p/Qm', '--no-mdns'])
  const addrs = readConfig(getter({ listenPort: 4500, listenAddresses: ['/ip4/127.0.0.1/tcp/0'] }))
  assert.deepEqual(upArgs(addrs, '/s', 1).slice(6), ['--listen', '/ip4/127.0.0.1/tcp/0'])
})

test('absoluteStateDir: relative paths hang off home', () => {
  assert.equal(absoluteStateDir('rel/dir', '/h'), '/h/rel/dir')
  assert.equal(absoluteStateDir('/abs', '/h'), '/abs')
})
