import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeNonce, meshMapHtml } from './mesh-map-html.ts'

const html = meshMapHtml({ cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce: 'abc123', scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/mesh-map.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/mesh-map.css', title: 'Mesh <Map>', lang: 'en' })

test('strict CSP: nothing by default, one script by nonce, no inline styles or eval', () => {
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /script-src 'nonce-abc123'/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/)
  assert.equal((html.match(/<script/g) ?? []).length, 1)
  assert.match(html, /<script nonce="abc123" src="https:\/\/file\+\.vscode-resource/)
  assert.doesNotMatch(html, /style="/)
  assert.doesNotMatch(html, /\son\w+="/)
})

test('no remote resources: every URL is the webview resource origin', () => {
  const urls = html.match(/(?:src|href)="([^"]+)"/g) ?? []
  assert.equal(urls.length, 2)
  for (const u of urls) assert.match(u, /"https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\//)
})

test('text is escaped', () => {
  assert.match(html, /<title>Mesh &lt;Map&gt;<\/title>/)
})

test('nonces differ', () => {
  assert.notEqual(makeNonce(), makeNonce())
  assert.match(makeNonce(), /^[A-Za-z0-9+/=]{24}$/)
})
