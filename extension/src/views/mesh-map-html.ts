import { randomBytes } from 'node:crypto'

export interface MeshMapHtmlInput {
  /** `webview.cspSource` */
  cspSource: string
  nonce: string
  scriptUri: string
  styleUri: string
  title: string
  lang: string
}

/** A fresh nonce for the one script the page may run. */
export function makeNonce (): string {
  return randomBytes(18).toString('base64')
}

const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * The mesh map page. Strict CSP: nothing by default; styles and images only from the extension's
 * own media folder; one script, by nonce; no inline styles or handlers, no remote resources.
 * Colours come from the theme's CSS variables (see media/mesh-map.css).
 */
export function meshMapHtml (i: MeshMapHtmlInput): string {
  const csp = [
    "default-src 'none'",
    `style-src ${i.cspSource}`,
    `img-src ${i.cspSource}`,
    `font-src ${i.cspSource}`,
    `script-src 'nonce-${i.nonce}'`,
    "base-uri 'none'",
    "form-action 'none'"
  ].join('; ')
  return `<!DOCTYPE html>
<html lang="${attr(i.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(i.styleUri)}">
<title>${attr(i.title)}</title>
</head>
<body>
<header><h1 id="title">${attr(i.title)}</h1><p id="summary" role="status" aria-live="polite"></p></header>
<svg id="map" role="img" aria-labelledby="title summary" viewBox="-500 -320 1000 640" preserveAspectRatio="xMidYMid meet"></svg>
<ul id="legend"></ul>
<script nonce="${attr(i.nonce)}" src="${attr(i.scriptUri)}"></script>
</body>
</html>`
}
