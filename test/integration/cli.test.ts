// The meshlink CLI against real sidecar processes: exit codes, --json, errors, lifecycle.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { startSidecar, tempStateDir, removeStateDir, waitFor, SIDECAR_BUNDLE, type SidecarProcess } from '../helpers/sidecar-process.ts'

const dirs: string[] = []
const running: SidecarProcess[] = []
after(async () => {
  await Promise.all(running.map(s => s.stop()))
  for (const d of dirs) removeStateDir(d)
})

function cli (args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null, out: string, err: string } {
  const r = spawnSync(process.execPath, [SIDECAR_BUNDLE, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

test('help, usage errors and exit codes', () => {
  const help = cli(['--help'])
  assert.equal(help.code, 0)
  for (const c of ['up', 'status', 'peers', 'invite', 'join', 'leave', 'name']) assert.match(help.out, new RegExp(`\\n  ${c} `))
  assert.equal(cli([]).code, 2)
  const unknown = cli(['frobnicate'])
  assert.equal(unknown.code, 2)
  assert.match(unknown.err, /unknown command "frobnicate"/)
  for (const c of ['up', 'status', 'peers', 'invite', 'join', 'leave', 'name']) {
    const h = cli([c, '--help'])
    assert.equal(h.code, 0, `${c} --help`)
    assert.match(h.out, new RegExp(`usage: meshlink ${c}`))
  }
  const badFlag = cli(['status', '--bogus'])
  assert.equal(badFlag.code, 2)
  assert.match(badFlag.err, /bogus/)
  assert.equal(cli(['join']).code, 2)
  assert.match(cli(['join']).err, /missing CODE/)
  assert.equal(cli(['status', 'extra']).code, 2)
  const d = tempStateDir(); dirs.push(d)
  assert.match(cli(['up', '--state', d, '--listen', 'not-an-addr']).err, /--listen "not-an-addr" is not a multiaddr/)
  assert.equal(cli(['up', '--state', d, '--bootstrap', '/ip4/127.0.0.1/tcp/1']).code, 2)
  assert.equal(cli(['up', '--state', d, '--parent-pid', 'abc']).code, 2)
  assert.equal(cli(['up', '--state', d, '--log-level', 'loud']).code, 2)
  assert.equal(cli(['up', '--state', d, '--name', '']).code, 2)
  assert.equal(cli(['status', '--state', d, '--timeout', '-1']).code, 2)
})

test('client commands without a running sidecar exit 3 and say how to start one', () => {
  const d = tempStateDir(); dirs.push(d)
  const r = cli(['status', '--state', d])
  assert.equal(r.code, 3)
  assert.match(r.err, /no sidecar is running.*meshlink up/)
  // MESHLINK_STATE is honoured
  assert.equal(cli(['peers'], { MESHLINK_STATE: d }).code, 3)
})

test('commands against a running sidecar: status, peers, invite, name, join errors; a second up is refused', async () => {
  const s = await startSidecar({ name: 'cli-node' })
  running.push(s); dirs.push(s.stateDir)
  const st = cli(['status', '--state', s.stateDir, '--json'])
  assert.equal(st.code, 0, st.err)
  const status = JSON.parse(st.out)
  assert.equal(status.name, 'cli-node')
  assert.equal(status.peerId, s.info.peerId)
  assert.match(cli(['status', '--state', s.stateDir]).out, /name: +cli-node/)
  assert.match(cli(['peers'], { MESHLINK_STATE: s.stateDir }).out, /no members yet/)
  assert.deepEqual(JSON.parse(cli(['peers', '--json', '--state', s.stateDir]).out), { peers: [] })
  const inv = cli(['invite', '--state', s.stateDir])
  assert.equal(inv.code, 0)
  assert.match(inv.out.trim(), /^ML1[1-9A-HJ-NP-Za-km-z]+$/)
  assert.equal(cli(['name', 'renamed', '--state', s.stateDir]).code, 0)
  assert.equal(cli(['name', '--state', s.stateDir]).out.trim(), 'renamed')
  const bad = cli(['join', 'garbage', '--state', s.stateDir])
  assert.equal(bad.code, 1)
  assert.match(bad.err, /not a MeshLink invite code.*\[INVALID_INVITE\]/)
  const truncated = cli(['join', inv.out.trim().slice(0, 60), '--state', s.stateDir])
  assert.equal(truncated.code, 1)
  assert.match(truncated.err, /truncated or altered/)
  const second = cli(['up', '--state', s.stateDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])
  assert.equal(second.code, 4)
  assert.match(second.err, new RegExp(`already runs for .* \\(pid ${s.proc.pid}\\)`))
  assert.equal((await s.client.call('node.status')).name, 'renamed', 'the first sidecar is unharmed')
  const created = JSON.parse(cli(['create', 'team', '--json', '--state', s.stateDir]).out)
  assert.equal(created.mesh.name, 'team')
  assert.equal(created.mesh.personal, false)
  const left = JSON.parse(cli(['leave', '--json', '--state', s.stateDir]).out)
  assert.equal(left.left.name, 'team')
  assert.equal(left.mesh.personal, true)
})

test('store set, pin and unpin: units, "none", usage errors and NOT_FOUND', async () => {
  const s = await startSidecar({ name: 'cli-store' })
  running.push(s); dirs.push(s.stateDir)
  const at = ['--state', s.stateDir]
  const set = cli(['store', 'set', '--cap', '2GB', '--max-upload', '10MB/s', '--json', ...at])
  assert.equal(set.code, 0, set.err)
  assert.deepEqual([JSON.parse(set.out).capBytes, JSON.parse(set.out).maxUploadBytesPerSec], [2e9, 10e6])
  assert.match(cli(['store', 'status', ...at]).out, /of 1\.9 GiB .* upload cap 9\.5 MiB\/s/)
  const none = cli(['store', 'set', '--max-upload', 'none', '--json', ...at])
  assert.equal(JSON.parse(none.out).maxUploadBytesPerSec, null)
  assert.match(cli(['store', 'status', ...at]).out, /upload cap none/)
  for (const [args, msg] of [
    [['store', 'set'], /needs --cap SIZE and\/or --max-upload/],
    [['store', 'set', '--cap', '12 parsecs'], /--cap must be a positive number of bytes.*"12 parsecs"/],
    [['store', 'set', '--max-upload=-3'], /--max-upload must be a positive number/],
    [['store', 'status', '--cap', '1GB'], /--cap and --max-upload go with `store set`/],
    [['fetch', 'abc', '--out', '/tmp/x', '--max-rate', 'fast'], /--max-rate must be a positive number/],
    [['pin'], /missing ID\|TAG/]
  ] as Array<[string[], RegExp]>) {
    const r = cli([...args, ...at])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`)
    assert.match(r.err, msg)
  }
  const tiny = cli(['store', 'set', '--cap', '1000', ...at])
  assert.equal(tiny.code, 1)
  assert.match(tiny.err, /capBytes.*\[INVALID_PARAMS\]/)
  const unknown = cli(['unpin', 'nothing@here', ...at])
  assert.equal(unknown.code, 1)
  assert.match(unknown.err, /no artifact "nothing@here".*\[NOT_FOUND\]/)
})

test('SIGTERM shuts down cleanly: exit 0, api.json, lock and sockets removed', async () => {
  const s = await startSidecar({ name: 'term' })
  running.push(s); dirs.push(s.stateDir)
  const sock = s.info.router.replace('ipc://', '')
  assert.ok(existsSync(sock))
  assert.equal(await s.stop('SIGTERM'), 0)
  assert.equal(existsSync(join(s.stateDir, 'api.json')), false)
  assert.equal(existsSync(join(s.stateDir, 'sidecar.lock')), false)
  assert.equal(existsSync(sock), false)
  assert.equal(cli(['status', '--state', s.stateDir]).code, 3)
  // and it starts again with the same identity
  const again = await startSidecar({ stateDir: s.stateDir })
  running.push(again)
  assert.equal(again.info.peerId, s.info.peerId)
  assert.equal((await again.client.call('node.status')).name, 'term', 'the display name persisted')
})

test('meshlink stop and node.shutdown stop the sidecar', async () => {
  const s = await startSidecar()
  running.push(s); dirs.push(s.stateDir)
  assert.equal(cli(['stop', '--state', s.stateDir]).code, 0)
  await waitFor(() => s.proc.exitCode !== null, 'sidecar exit after stop', 10_000)
  assert.equal(s.proc.exitCode, 0)
})

test('--parent-pid: the sidecar exits when its parent is gone', async () => {
  const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
  try {
    const s = await startSidecar({ args: ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--parent-pid', String(parent.pid)] })
    running.push(s); dirs.push(s.stateDir)
    parent.kill('SIGKILL')
    await waitFor(() => s.proc.exitCode !== null, 'sidecar to exit after its parent died', 10_000)
    assert.equal(s.proc.exitCode, 0)
    assert.match(s.stderr(), /parent process \d+ is gone/)
  } finally {
    if (parent.exitCode === null) parent.kill('SIGKILL')
  }
})
