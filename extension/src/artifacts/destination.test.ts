import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emptyOrMissing, outputDir } from './destination.ts'

test('an empty or new folder is used as is; a non-empty one gets a subfolder named after the artifact', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ml-dest-'))
  try {
    assert.equal(await outputDir(root, 'web-dist'), root, 'empty')
    assert.equal(await outputDir(join(root, 'new'), 'web-dist'), join(root, 'new'), 'missing')
    writeFileSync(join(root, 'README.md'), 'x')
    assert.equal(await emptyOrMissing(join(root, 'README.md')), false, 'a file')
    assert.equal(await outputDir(root, 'web-dist'), join(root, 'web-dist'))
    mkdirSync(join(root, 'web-dist'))
    assert.equal(await outputDir(root, 'web-dist'), join(root, 'web-dist'), 'an empty one of that name')
    writeFileSync(join(root, 'web-dist', 'index.html'), 'x')
    assert.equal(await outputDir(root, 'web-dist'), join(root, 'web-dist-2'))
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
