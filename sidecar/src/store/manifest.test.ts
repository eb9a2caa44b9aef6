import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeManifest, parseManifest, manifestId, checkSymlinkTarget, type Manifest } from './manifest.ts'
import { UnsafeManifestError } from './errors.ts'

const H = 'a'.repeat(64)
const ok: Manifest = {
  v: 1,
  entries: [
    { path: 'bin', type: 'dir', mode: 0o755 },
    { path: 'bin/run', type: 'file', mode: 0o755, size: 3, chunks: [[H, 3]] },
    { path: 'latest', type: 'symlink', target: 'bin/run' },
    { path: 'bin/up', type: 'symlink', target: '../latest' }
  ]
}

const raw = (entries: unknown[]): Buffer => Buffer.from(JSON.stringify({ v: 1, entries }))

test('canonical encoding: order-independent, id is its SHA-256, round trip', () => {
  const a = encodeManifest(ok)
  const b = encodeManifest({ v: 1, entries: [...ok.entries].reverse() })
  assert.ok(a.equals(b))
  const { manifest, id } = parseManifest(a)
  assert.equal(id, manifestId(a))
  assert.deepEqual(encodeManifest(manifest), a)
  assert.throws(() => parseManifest(a, 'b'.repeat(64)), UnsafeManifestError)
})

test('traversal, absolute paths and escaping symlinks are refused', () => {
  const bad: Array<[string, unknown[]]> = [
    ['..', [{ path: '../evil', type: 'dir', mode: 0o755 }]],
    ['inner ..', [{ path: 'a/../../evil', type: 'dir', mode: 0o755 }]],
    ['absolute', [{ path: '/etc/passwd', type: 'file', mode: 0o644, size: 1, chunks: [[H, 1]] }]],
    ['drive', [{ path: 'C:/x', type: 'dir', mode: 0o755 }]],
    ['backslash', [{ path: 'a\\..\\..\\x', type: 'dir', mode: 0o755 }]],
    ['dot', [{ path: './x', type: 'dir', mode: 0o755 }]],
    ['empty segment', [{ path: 'a//b', type: 'dir', mode: 0o755 }]],
    ['symlink absolute', [{ path: 'l', type: 'symlink', target: '/etc' }]],
    ['symlink up', [{ path: 'a/l', type: 'symlink', target: '../../etc' }]],
    ['below a symlink', [{ path: 'l', type: 'symlink', target: 'x' }, { path: 'l/f', type: 'file', mode: 0o644, size: 1, chunks: [[H, 1]] }]],
    ['below a file', [{ path: 'f', type: 'file', mode: 0o644, size: 1, chunks: [[H, 1]] }, { path: 'f/g', type: 'dir', mode: 0o755 }]],
    ['duplicate', [{ path: 'a', type: 'dir', mode: 0o755 }, { path: 'a', type: 'dir', mode: 0o755 }]],
    ['size mismatch', [{ path: 'f', type: 'file', mode: 0o644, size: 2, chunks: [[H, 1]] }]],
    ['bad hash', [{ path: 'f', type: 'file', mode: 0o644, size: 1, chunks: [['zz', 1]] }]],
    ['unknown type', [{ path: 'f', type: 'fifo' }]]
  ]
  for (const [what, entries] of bad) assert.throws(() => parseManifest(raw(entries)), UnsafeManifestError, what)
  assert.throws(() => parseManifest(Buffer.from('{"v":1,"entries":[{"type":"dir","path":"a","mode":493}]}')), /canonical/)
  assert.throws(() => parseManifest(Buffer.from('nope')), UnsafeManifestError)
  assert.equal(checkSymlinkTarget('a/b/l', '../c'), '../c')
})
