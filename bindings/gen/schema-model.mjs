// Reads schemas/ into a small, language-neutral model that the Python and Go emitters walk:
// named types (structs and string enums), methods (params/result types, client names) and events.
// Only the JSON Schema shapes the protocol uses are understood; anything else fails loudly with the
// schema and keyword, so a new construct is added here rather than silently mistyped.
import { readFileSync, readdirSync } from 'node:fs'
import { join, posix } from 'node:path'

/** node.setName -> NodeSetName; PARSE_ERROR -> ParseError; peer-id -> PeerId */
export const pascal = (s) => s.split(/[.\-_ ]/).filter(Boolean)
  .map(p => (p === p.toUpperCase() ? p[0] + p.slice(1).toLowerCase() : p[0].toUpperCase() + p.slice(1))).join('')
/** peerId -> ['peer', 'Id'] -> words */
export const words = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[ ._\-]+/).filter(Boolean)
export const snake = (s) => words(s).map(w => w.toLowerCase()).join('_')

/**
 * Client method names, derived from the wire name so that new methods need no table:
 * `node.X` -> X (the node is the client's subject: status, setName, shutdown),
 * `G.list` -> G (peers.list -> peers, later services, forwards, ...), anything else `G.X` -> G + X
 * (mesh.create -> meshCreate, peers.ping -> peersPing). Returned as words; each language cases them.
 */
export function clientNameWords (method) {
  const [group, ...rest] = method.split('.')
  const verb = rest.join('.')
  if (group === 'node') return words(verb)
  if (verb === 'list') return words(group)
  return [...words(group), ...words(verb)]
}

/** @returns {{ rel: string, schema: any }[]} every schema file under dir except conformance fixtures */
function loadSchemas (dir) {
  const out = []
  for (const sub of ['', 'types', 'methods', 'events']) {
    for (const f of readdirSync(join(dir, sub)).filter(f => f.endsWith('.json')).sort()) {
      const rel = posix.join(sub, f)
      const schema = JSON.parse(readFileSync(join(dir, sub, f), 'utf8'))
      if (schema.$id !== `meshlink:/${rel}`) throw new Error(`${rel}: $id must be "meshlink:/${rel}", is ${JSON.stringify(schema.$id)}`)
      out.push({ rel, schema })
    }
  }
  return out
}

/**
 * Type expressions: { t: 'string'|'datetime'|'int'|'float'|'bool'|'any'|'map' }, { t: 'list', of },
 * { t: 'nullable', of }, { t: 'named', name } (a struct or enum in `named`).
 * Named: { kind: 'struct', name, doc, fields: [{ json, type, required, doc }] } or
 *        { kind: 'enum', name, doc, values: [string] }.
 */
export function loadModel (schemasDir) {
  const files = loadSchemas(schemasDir)
  const byRel = new Map(files.map(f => [f.rel, f.schema]))
  /** @type {Map<string, any>} */
  const named = new Map()
  const building = new Set()

  const fail = (where, msg) => { throw new Error(`${where}: ${msg} (extend bindings/gen/schema-model.mjs)`) }

  function target (ref, fromRel, where) {
    const [path, frag = ''] = ref.split('#')
    const rel = path ? posix.normalize(posix.join(posix.dirname(fromRel), path)) : fromRel
    let schema = byRel.get(rel)
    if (!schema) fail(where, `$ref ${ref} points at a missing file ${rel}`)
    for (const part of frag.split('/').filter(Boolean)) schema = schema?.[part]
    if (!schema) fail(where, `$ref ${ref} points at nothing`)
    return { rel, frag, schema }
  }

  /** The name a referenced schema gets when it needs one (types/ by title). */
  function refName ({ rel, frag, schema }) {
    if (rel.startsWith('types/') && !frag) return schema.title
    return null
  }

  function addNamed (name, def, where) {
    const old = named.get(name)
    if (old && JSON.stringify(old) !== JSON.stringify(def)) fail(where, `two different types would be named ${name}`)
    named.set(name, def)
    return { t: 'named', name }
  }

  /** Resolves a schema to a type expression; `hint` names inline objects and enums. */
  function typeOf (s, rel, hint, where) {
    if (s === true || s === undefined || (typeof s === 'object' && Object.keys(s).filter(k => k !== 'description').length === 0)) return { t: 'any' }
    if (s.$ref) {
      const tgt = target(s.$ref, rel, where)
      const name = refName(tgt)
      if (name && (isObject(tgt.schema) || tgt.schema.enum)) {
        if (!named.has(name) && !building.has(name)) {
          building.add(name)
          typeOf(tgt.schema, tgt.rel, name, `${tgt.rel}`)
          building.delete(name)
        }
        return { t: 'named', name }
      }
      return typeOf(tgt.schema, tgt.rel, name ?? hint, where)
    }
    const alts = s.oneOf ?? s.anyOf
    if (alts) {
      const nonNull = alts.filter(a => a.type !== 'null')
      if (nonNull.length === 1 && alts.length === 2) return nullable(typeOf({ ...nonNull[0], description: nonNull[0].description ?? s.description }, rel, hint, where))
      fail(where, 'oneOf/anyOf other than "X or null" is not supported')
    }
    if (s.enum) {
      const values = s.enum.filter(v => v !== null)
      if (!values.every(v => typeof v === 'string')) fail(where, 'only string enums are supported')
      const e = addNamed(hint, { kind: 'enum', name: hint, doc: s.description ?? '', values }, where)
      return s.enum.includes(null) ? nullable(e) : e
    }
    if ('const' in s) {
      const c = s.const
      return typeof c === 'boolean' ? { t: 'bool' } : Number.isInteger(c) ? { t: 'int' } : typeof c === 'number' ? { t: 'float' } : typeof c === 'string' ? { t: 'string' } : fail(where, 'unsupported const')
    }
    let type = s.type
    if (Array.isArray(type)) {
      const nn = type.filter(x => x !== 'null')
      if (nn.length !== 1) fail(where, `type ${JSON.stringify(type)} is not supported`)
      const inner = typeOf({ ...s, type: nn[0] }, rel, hint, where)
      return type.includes('null') ? nullable(inner) : inner
    }
    if (!type && s.properties) type = 'object'
    switch (type) {
      case 'string': return s.format === 'date-time' ? { t: 'datetime' } : { t: 'string' }
      case 'integer': return { t: 'int' }
      case 'number': return { t: 'float' }
      case 'boolean': return { t: 'bool' }
      case 'array': return { t: 'list', of: typeOf(s.items, rel, hint + 'Item', `${where}/items`) }
      case 'object': {
        if (!s.properties || Object.keys(s.properties).length === 0) {
          // an object with declared-empty properties is an empty struct (params {}), else free-form data
          if (s.properties && s.additionalProperties === false) return addNamed(hint, { kind: 'struct', name: hint, doc: s.description ?? '', fields: [] }, where)
          return { t: 'map' }
        }
        const required = new Set(s.required ?? [])
        const fields = Object.entries(s.properties).map(([k, ps]) => {
          const doc = ps.description ?? (ps.$ref ? target(ps.$ref, rel, where).schema.description : undefined) ??
            (ps.oneOf ?? []).map(a => a.description ?? (a.$ref ? target(a.$ref, rel, where).schema.description : undefined)).find(Boolean) ?? ''
          return { json: k, type: typeOf(ps, rel, hint + pascal(k), `${where}/properties/${k}`), required: required.has(k), doc }
        })
        return addNamed(hint, { kind: 'struct', name: hint, doc: s.description ?? '', fields }, where)
      }
      case undefined: return { t: 'any' }
      default: fail(where, `type ${type} is not supported`)
    }
  }
  const isObject = (s) => s.type === 'object' || (!s.type && s.properties)
  const nullable = (x) => (x.t === 'nullable' ? x : { t: 'nullable', of: x })

  // types/ first (by title), then methods and events, so shared types keep their own names
  for (const [rel, s] of byRel) {
    if (rel.startsWith('types/') && (isObject(s) || s.enum)) typeOf({ $ref: posix.basename(rel) }, rel, s.title, rel)
  }
  const methods = []
  for (const [rel, s] of byRel) {
    if (!rel.startsWith('methods/')) continue
    const name = s.title
    if (!s.$defs?.params || !s.$defs?.result) fail(rel, 'a method needs $defs.params and $defs.result')
    const params = typeOf(s.$defs.params, rel, pascal(name) + 'Params', `${rel}#/$defs/params`)
    const result = typeOf(s.$defs.result, rel, pascal(name) + 'Result', `${rel}#/$defs/result`)
    if (params.t !== 'named' || result.t !== 'named') fail(rel, 'params and result must be objects')
    methods.push({ name, doc: s.description ?? '', params: params.name, result: result.name, clientWords: clientNameWords(name) })
  }
  const events = []
  for (const [rel, s] of byRel) {
    if (!rel.startsWith('events/')) continue
    const t = typeOf(s, rel, pascal(s.title) + 'Event', rel)
    if (t.t !== 'named') fail(rel, 'event data must be an object')
    events.push({ name: s.title, doc: s.description ?? '', data: t.name })
  }
  const seen = new Map()
  for (const m of methods) {
    const k = m.clientWords.join(' ').toLowerCase()
    if (seen.has(k)) fail(`methods/${m.name}.json`, `its client name collides with ${seen.get(k)}'s`)
    seen.set(k, m.name)
  }
  const errorCodes = byRel.get('types/error-code.json')?.enum ?? fail('types/error-code.json', 'missing')
  return { named, methods, events, errorCodes }
}
