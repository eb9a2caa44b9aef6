import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SIDECAR_NODE_FLAGS } from '../../../sidecar/src/daemon/node-flags.ts'
import { checkLaunchFiles, checkRuntime, NodeTooOldError, parseNodeVersion, resolveSidecar, SidecarNotFoundError } from './resolve.ts'

const base = { env: {}, settingPath: undefined, nodePath: undefined, extensionPath: '/ext', execPath: '/vscode/electron' }

test('resolution order: MESHLINK_SIDECAR, then the setting, then the bundled file', () => {
  const bundled = resolveSidecar(base)
  assert.equal(bundled.sidecar, join('/ext', 'dist', 'meshlink.mjs'))
  assert.equal(bundled.sidecarSource, 'bundled')
  assert.equal(bundled.command, '/vscode/electron')
  assert.deepEqual(bundled.prefixArgs, [...SIDECAR_NODE_FLAGS, bundled.sidecar])
  assert.equal(bundled.runtimeSource, 'host')

  const setting = resolveSidecar({ ...base, settingPath: '/opt/ml/meshlink.mjs' })
  assert.equal(setting.sidecar, '/opt/ml/meshlink.mjs')
  assert.equal(setting.sidecarSource, 'setting')

  const env = resolveSidecar({ ...base, env: { MESHLINK_SIDECAR: '/dev/ml.mjs' }, settingPath: '/opt/ml/meshlink.mjs' })
  assert.equal(env.sidecar, '/dev/ml.mjs')
  assert.equal(env.sidecarSource, 'env')

  const blankEnv = resolveSidecar({ ...base, env: { MESHLINK_SIDECAR: '  ' } })
  assert.equal(blankEnv.sidecarSource, 'bundled')
})

test('nodePath overrides the host runtime; executables run directly', () => {
  const node = resolveSidecar({ ...base, nodePath: '/usr/local/bin/node22' })
  assert.equal(node.command, '/usr/local/bin/node22')
  assert.equal(node.runtimeSource, 'setting')
  const exe = resolveSidecar({ ...base, settingPath: '/usr/local/bin/meshlink', nodePath: '/usr/local/bin/node22' })
  assert.equal(exe.command, '/usr/local/bin/meshlink')
  assert.deepEqual(exe.prefixArgs, [])
  assert.equal(exe.runtime, undefined)
})

test('checkLaunchFiles names the setting to fix', () => {
  const none = () => false
  assert.throws(() => checkLaunchFiles(resolveSidecar({ ...base, env: { MESHLINK_SIDECAR: '/x.mjs' } }), none), (e: unknown) => e instanceof SidecarNotFoundError && e.setting === 'MESHLINK_SIDECAR')
  assert.throws(() => checkLaunchFiles(resolveSidecar({ ...base, settingPath: '/x.mjs' }), none), (e: unknown) => e instanceof SidecarNotFoundError && e.setting === 'meshlink.sidecar.path')
  assert.throws(() => checkLaunchFiles(resolveSidecar(base), none), (e: unknown) => e instanceof SidecarNotFoundError && e.setting === undefined)
  assert.throws(() => checkLaunchFiles(resolveSidecar({ ...base, nodePath: '/n' }), p => p !== '/n'), (e: unknown) => e instanceof SidecarNotFoundError && e.setting === 'meshlink.sidecar.nodePath')
  checkLaunchFiles(resolveSidecar(base), () => true)
})

test('parseNodeVersion', () => {
  assert.deepEqual(parseNodeVersion('v22.15.1'), [22, 15, 1])
  assert.deepEqual(parseNodeVersion('20.18.0\n'), [20, 18, 0])
  assert.equal(parseNodeVersion('node'), undefined)
})

test('checkRuntime: the host runtime is judged by its version, without a process', async () => {
  const launch = resolveSidecar(base)
  assert.equal(await checkRuntime(launch, { hostVersion: '22.15.1' }), '22.15.1')
  await assert.rejects(checkRuntime(launch, { hostVersion: '20.18.1' }), (e: unknown) => e instanceof NodeTooOldError && !e.fromSetting && e.version === '20.18.1')
})

test('checkRuntime: a nodePath runtime is asked for --version', { skip: process.platform === 'win32' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-rt-'))
  try {
    const old = join(dir, 'node20')
    writeFileSync(old, '#!/bin/sh\necho v20.11.0\n')
    chmodSync(old, 0o755)
    await assert.rejects(checkRuntime(resolveSidecar({ ...base, nodePath: old })), (e: unknown) => e instanceof NodeTooOldError && e.fromSetting && e.version === '20.11.0')
    assert.equal(await checkRuntime(resolveSidecar({ ...base, nodePath: process.execPath })), process.versions.node)
    await assert.rejects(checkRuntime(resolveSidecar({ ...base, nodePath: join(dir, 'missing') })), /could not run/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an executable sidecar has no runtime to check', async () => {
  assert.equal(await checkRuntime(resolveSidecar({ ...base, settingPath: '/usr/bin/meshlink' })), undefined)
})
