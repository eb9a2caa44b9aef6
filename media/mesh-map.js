// The mesh map page: draws the graph the extension posts (this node in the middle, members on a
// circle, an edge per open connection labelled with RTT and direct/relayed). No dependencies, no
// remote resources; text goes in with textContent only.
(function () {
  'use strict'
  const vscode = acquireVsCodeApi()
  const SVG = 'http://www.w3.org/2000/svg'
  const svg = document.getElementById('map')
  const summary = document.getElementById('summary')
  const legend = document.getElementById('legend')

  function el (name, attrs, text) {
    const e = document.createElementNS(SVG, name)
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v))
    if (text !== undefined) e.textContent = text
    return e
  }

  function fmt (template, ...args) {
    return template.replace(/\{(\d+)\}/g, (m, i) => (Number(i) < args.length ? String(args[Number(i)]) : m))
  }

  function clip (s, n) {
    return s.length > n ? s.slice(0, n - 1) + '…' : s
  }

  function render (graph, strings) {
    svg.replaceChildren()
    legend.replaceChildren()
    if (!graph.self) {
      summary.textContent = ''
      svg.appendChild(el('text', { x: 0, y: 0, class: 'empty' }, strings.empty))
      vscode.postMessage({ type: 'rendered', nodes: 0, edges: 0 })
      return
    }
    const online = graph.nodes.filter(n => n.online).length
    summary.textContent = graph.mesh ? fmt(strings.summary, graph.mesh.name, online, graph.nodes.length) : ''
    for (const [cls, text] of [['direct', strings.direct], ['relayed', strings.relayed], ['offline', strings.offline]]) {
      const li = document.createElement('li')
      li.className = cls
      li.textContent = text
      legend.appendChild(li)
    }
    const n = graph.nodes.length
    const radius = n <= 1 ? 220 : Math.min(260, 160 + n * 12)
    const pos = new Map([[graph.self.id, { x: 0, y: 0 }]])
    graph.nodes.forEach((node, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1)
      pos.set(node.id, { x: Math.round(radius * 1.5 * Math.cos(a)), y: Math.round(radius * Math.sin(a)) })
    })
    const edges = el('g', { class: 'edges' })
    const labels = el('g', { class: 'labels' })
    for (const e of graph.edges) {
      const p = pos.get(e.from)
      const q = pos.get(e.to)
      if (!p || !q) continue
      edges.appendChild(el('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: `edge ${e.connection}` }))
      labels.appendChild(el('text', { x: Math.round((p.x + q.x) / 2), y: Math.round((p.y + q.y) / 2) - 6, class: 'edge-label' }, e.label))
    }
    svg.appendChild(edges)
    svg.appendChild(labels)
    const nodes = el('g', { class: 'nodes' })
    const drawNode = (id, label, cls, r) => {
      const p = pos.get(id)
      const g = el('g', { class: `node ${cls}`, transform: `translate(${p.x} ${p.y})` })
      g.appendChild(el('title', {}, `${label}\n${id}`))
      g.appendChild(el('circle', { r, class: 'backdrop' }))
      g.appendChild(el('circle', { r }))
      // the label goes on the far side from the centre, off the edge line
      const above = p.y < 0
      g.appendChild(el('text', { y: above ? -(r + 10) : r + 20 }, clip(label, 28)))
      nodes.appendChild(g)
    }
    drawNode(graph.self.id, graph.self.label, 'self', 26)
    for (const node of graph.nodes) drawNode(node.id, node.label, node.online ? 'online' : 'offline', 18)
    svg.appendChild(nodes)
    if (n === 0) svg.appendChild(el('text', { x: 0, y: 90, class: 'empty' }, strings.alone))
    vscode.postMessage({ type: 'rendered', nodes: n, edges: graph.edges.length })
  }

  window.addEventListener('message', (event) => {
    const m = event.data
    if (m && m.type === 'graph') render(m.graph, m.strings)
  })
  vscode.postMessage({ type: 'ready' })
})()
