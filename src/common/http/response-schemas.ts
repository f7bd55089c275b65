import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';

type Json = Record<string, unknown>;

const COMPONENT_REF = '#/components/schemas/';

/**
 * Keywords that only validate. fast-json-stringify checks the branches of an anyOf or oneOf with
 * them (through ajv) to pick the one to write, so an answer the contract describes loosely (an
 * email address the strict format would refuse) would fail to serialise: the shape is enough.
 * Date formats stay: they tell it to write a Date as an ISO string.
 */
const VALIDATION_ONLY = new Set(['pattern', 'minLength', 'maxLength', 'minimum', 'maximum']);
const DATE_FORMATS = new Set(['date-time', 'date', 'time']);

/**
 * `#/components/schemas/User` becomes `User#`, the id the schema is added to Fastify under; the
 * validation-only keywords go.
 */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (VALIDATION_ONLY.has(k) && typeof v !== 'object') continue;
    if (k === 'format' && typeof v === 'string' && !DATE_FORMATS.has(v)) continue;
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith(COMPONENT_REF)
        ? `${v.slice(COMPONENT_REF.length)}#`
        : rewriteRefs(v);
  }
  return out;
}

/** The JSON schema of an operation's success answer, when the contract gives one. */
function successSchema(operation: Json | undefined): { status: string; schema: Json } | null {
  const responses = operation?.['responses'] as Record<string, Json> | undefined;
  if (!responses) return null;
  const status = Object.keys(responses).find((s) => /^2\d\d$/.test(s) && s !== '204');
  if (!status) return null;
  const content = responses[status]?.['content'] as Record<string, Json> | undefined;
  const schema = content?.['application/json']?.['schema'] as Json | undefined;
  return schema ? { status, schema } : null;
}

/**
 * Response serialisation through Fastify's schemas, from the typed contract: every route whose
 * OpenAPI operation describes a JSON success answer gets that schema as its response schema, so
 * fast-json-stringify writes the body (faster than JSON.stringify, and a field the contract does
 * not declare never leaves). The document's component schemas are added to Fastify once; routes
 * are matched as Nest registers them (call before `app.init()`). Errors, HTML pages and routes that
 * answer through the raw reply keep Fastify's default serialiser.
 */
export function useContractSerialisers(fastify: FastifyInstance, document: OpenAPIObject): void {
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    fastify.addSchema({ $id: name, ...(rewriteRefs(schema) as Json) });
  }
  const operations = new Map<string, Json>();
  for (const [path, item] of Object.entries(document.paths)) {
    const url = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(item as Record<string, Json>)) {
      operations.set(`${method.toUpperCase()} ${url}`, operation);
    }
  }
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.length !== 1 || route.schema?.response) return;
    const success = successSchema(operations.get(`${methods[0]} ${route.url}`));
    if (!success) return;
    route.schema = {
      ...route.schema,
      response: { [success.status]: rewriteRefs(success.schema) },
    };
  });
}
