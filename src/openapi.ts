// openapi.yaml is the HTTP contract: loaded once, and every route takes its validation schema from it.
import { readFileSync } from 'node:fs'
import type { FastifySchema } from 'fastify'
import yaml from 'js-yaml'

type Json = Record<string, unknown>

export interface OpenApiDocument extends Json {
  paths: Record<string, Record<string, Json>>
  components: Json
}

export interface SpecOperation {
  method: string
  /** Fastify path syntax: /transfer/:scicatJobId */
  url: string
  operationId: string
}

export const specText: string = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')
export const specDocument = yaml.load(specText) as OpenApiDocument

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const

/** Replaces every `$ref: '#/components/...'` with a copy of what it points to. */
function deref (node: unknown, doc: OpenApiDocument): unknown {
  if (Array.isArray(node)) return node.map((n) => deref(n, doc))
  if (typeof node !== 'object' || node === null) return node
  const obj = node as Json
  if (typeof obj.$ref === 'string') {
    const target = obj.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((acc, key) => (acc as Json)?.[key], doc)
    if (target === undefined) throw new Error(`openapi.yaml: unresolved ${obj.$ref}`)
    return deref(target, doc)
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, deref(v, doc)]))
}

export function specOperations (doc: OpenApiDocument = specDocument): SpecOperation[] {
  const ops: SpecOperation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of methods) {
      const op = item[method] as Json | undefined
      if (!op) continue
      ops.push({
        method: method.toUpperCase(),
        url: path.replace(/\{([^}]+)\}/g, ':$1'),
        operationId: String(op.operationId),
      })
    }
  }
  return ops
}

interface Parameter {
  name: string
  in: 'query' | 'path' | 'header'
  required?: boolean
  schema: Json
}

/** The Fastify schema of an operation: querystring, params, headers and body, unknown keys refused. */
export function routeSchema (operationId: string, doc: OpenApiDocument = specDocument): FastifySchema {
  for (const item of Object.values(doc.paths)) {
    for (const method of methods) {
      const op = item[method] as Json | undefined
      if (op?.operationId !== operationId) continue
      const params = [...((item.parameters as unknown as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map(
        (p) => deref(p, doc) as Parameter
      )
      const group = (where: Parameter['in'], strict: boolean) => {
        const list = params.filter((p) => p.in === where)
        if (!list.length) return undefined
        const name = (p: Parameter) => (where === 'header' ? p.name.toLowerCase() : p.name)
        return {
          type: 'object',
          properties: Object.fromEntries(list.map((p) => [name(p), p.schema])),
          required: list.filter((p) => p.required).map(name),
          additionalProperties: !strict,
        }
      }
      const schema: FastifySchema = { operationId }
      const querystring = group('query', true)
      if (querystring) schema.querystring = querystring
      const pathParams = group('path', true)
      if (pathParams) schema.params = pathParams
      const headers = group('header', false)
      if (headers) schema.headers = headers
      const body = (deref(op.requestBody, doc) as Json | undefined)?.content as Json | undefined
      const json = (body?.['application/json'] as Json | undefined)?.schema
      if (json) schema.body = json
      return schema
    }
  }
  throw new Error(`openapi.yaml has no operation ${operationId}`)
}
