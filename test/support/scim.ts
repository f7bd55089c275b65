import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import type { TestApp } from './app.js';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export type Json = Record<string, unknown>;

/** A SCIM client for one token: JSON bodies sent as application/scim+json, as IdPs do. */
export function scimClient(t: TestApp, token: string) {
  const auth = { Authorization: `Bearer ${token}` };
  const send = (
    method: 'post' | 'put' | 'patch',
    path: string,
    body: unknown,
    headers: Json = {},
  ) =>
    t.http[method](`/scim/v2${path}`)
      .set(auth)
      .set(headers as Record<string, string>)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify(body));
  return {
    get: (path: string, headers: Record<string, string> = {}) =>
      t.http.get(`/scim/v2${path}`).set(auth).set(headers),
    del: (path: string, headers: Record<string, string> = {}) =>
      t.http.delete(`/scim/v2${path}`).set(auth).set(headers),
    post: (path: string, body: unknown) => send('post', path, body),
    put: (path: string, body: unknown, headers: Json = {}) => send('put', path, body, headers),
    patch: (path: string, body: unknown, headers: Json = {}) => send('patch', path, body, headers),
    ops: (...Operations: Json[]) => ({ schemas: [PATCH_OP], Operations }),
  };
}

export type ScimClient = ReturnType<typeof scimClient>;

/** A SCIM error answer (RFC 7644 §3.12): status as a string, scimType when given. */
export function assertScimError(res: Response, status: number, scimType?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/scim\+json/);
  const body = res.body as Json;
  assert.deepEqual(body.schemas, [ERROR_SCHEMA]);
  assert.equal(body.status, String(status));
  assert.equal(typeof body.detail, 'string');
  if (scimType !== undefined) assert.equal(body.scimType, scimType, res.text);
}

interface SchemaAttribute {
  name: string;
  type: string;
  multiValued: boolean;
  required: boolean;
  returned: string;
  subAttributes?: SchemaAttribute[];
}

interface SchemaDoc {
  id: string;
  attributes: SchemaAttribute[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkValue(a: SchemaAttribute, v: unknown, where: string): void {
  if (a.multiValued) {
    assert.ok(Array.isArray(v), `${where} is multi-valued: an array`);
    (v as unknown[]).forEach((x, i) =>
      checkValue({ ...a, multiValued: false }, x, `${where}[${i}]`),
    );
    return;
  }
  switch (a.type) {
    case 'string':
    case 'reference':
      assert.equal(typeof v, 'string', `${where} is a string`);
      break;
    case 'boolean':
      assert.equal(typeof v, 'boolean', `${where} is a boolean`);
      break;
    case 'dateTime':
      assert.match(String(v), ISO, `${where} is a dateTime`);
      break;
    case 'complex': {
      assert.ok(v && typeof v === 'object' && !Array.isArray(v), `${where} is an object`);
      checkAttributes(a.subAttributes ?? [], v as Json, where, false);
      break;
    }
    default:
      assert.fail(`${where}: unknown type ${a.type}`);
  }
}

function checkAttributes(attrs: SchemaAttribute[], obj: Json, where: string, top: boolean): void {
  const known = new Map(attrs.map((a) => [a.name.toLowerCase(), a]));
  for (const [k, v] of Object.entries(obj)) {
    const a = known.get(k.toLowerCase());
    if (!a) {
      if (top) continue; // common attributes and extensions are checked by the caller
      assert.fail(`${where}.${k} is not in the schema`);
    }
    assert.notEqual(a.returned, 'never', `${where}.${k} is never returned`);
    checkValue(a, v, `${where}.${k}`);
  }
  for (const a of attrs)
    if (a.required)
      assert.ok(
        obj[a.name] !== undefined && obj[a.name] !== null,
        `${where}.${a.name} is required`,
      );
}

/**
 * Validates a full resource against the schemas the server itself serves at /Schemas: its core
 * schema and every extension it lists, the common attributes (id, externalId, meta), and no
 * attribute that no schema defines.
 */
export function validateResource(resource: Json, schemas: SchemaDoc[], core: string): void {
  const byId = new Map(schemas.map((s) => [s.id, s]));
  const listed = resource.schemas as string[];
  assert.ok(Array.isArray(listed) && listed.includes(core), `schemas lists ${core}`);
  assert.equal(typeof resource.id, 'string', 'id is a string');
  if (resource.externalId !== undefined) assert.equal(typeof resource.externalId, 'string');
  const meta = resource.meta as Json;
  assert.ok(meta && typeof meta === 'object', 'meta is present');
  assert.equal(typeof meta.resourceType, 'string');
  assert.match(String(meta.created), ISO);
  assert.match(String(meta.lastModified), ISO);
  assert.match(String(meta.location), /^https?:\/\/.+\/scim\/v2\/(Users|Groups)\/[0-9a-f-]{36}$/);
  assert.match(String(meta.version), /^W\/".+"$/);
  const coreSchema = byId.get(core);
  assert.ok(coreSchema, `the server serves ${core}`);
  checkAttributes(coreSchema.attributes, resource, 'resource', true);
  const coreNames = new Set(coreSchema.attributes.map((a) => a.name.toLowerCase()));
  for (const k of Object.keys(resource)) {
    if (
      ['schemas', 'id', 'externalid', 'meta'].includes(k.toLowerCase()) ||
      coreNames.has(k.toLowerCase())
    )
      continue;
    const ext = byId.get(k);
    assert.ok(
      ext && listed.includes(k),
      `resource.${k} is neither a ${core} attribute nor a listed extension`,
    );
    checkAttributes(ext.attributes, resource[k] as Json, k, false);
  }
  for (const s of listed) assert.ok(byId.has(s), `schema ${s} is served at /Schemas`);
}
