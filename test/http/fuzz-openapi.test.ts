import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { API } from '../factories/auth.js';
import { makeApiKey } from '../factories/credentials.js';
import {
  createGroup,
  createProject,
  createWorkspace,
  ok,
  setWorkspaceRole,
  tag,
} from '../factories/workspaces.js';
import { makeRole } from '../factories/roles.js';

/**
 * Property-based fuzzing of every operation in the served OpenAPI document (`GET
 * /api/openapi.json`). For each operation, fast-check generates requests (valid-looking and
 * malformed path ids, query strings, bodies: schema-shaped, arbitrary JSON, deep nesting, lone
 * surrogates, NUL, nulls, prototype keys, huge numbers, wrong types) and sends each one twice:
 * anonymous and as an admin. Any 5xx fails, and so does a 4xx not in the route's documented error
 * shape (problem+json; RFC 6749 JSON on OAuth endpoints; HTML on browser pages).
 *
 * Bounded and reproducible: FUZZ_SEED (default 20261202) and FUZZ_RUNS runs per operation
 * (default 12, each run two requests); no shrinking, the first failure of an operation is reported
 * with the request that caused it.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const REQUEST_TIMEOUT_MS = 10_000;

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  allOf?: Schema[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  /** The OpenAPI path, with `{param}` placeholders. */
  path: string;
  parameters: Parameter[];
  body: { json?: Schema; form?: boolean } | null;
  tags: string[];
  produces: string[];
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, Schema> };
}

function operationsOf(doc: OpenApiDoc): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const op = raw as {
        parameters?: Parameter[];
        requestBody?: { content?: Record<string, { schema?: Schema }> };
        tags?: string[];
        responses?: Record<string, { content?: Record<string, unknown> }>;
      };
      const content = op.requestBody?.content;
      out.push({
        method,
        path,
        parameters: op.parameters ?? [],
        body: content
          ? {
              json: content['application/json']?.schema,
              form: 'application/x-www-form-urlencoded' in content,
            }
          : null,
        tags: op.tags ?? [],
        produces: Object.values(op.responses ?? {}).flatMap((r) => Object.keys(r.content ?? {})),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding: URLs carry only ASCII, so a lone surrogate goes out as its (invalid) UTF-8 bytes.

function pct(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out +=
      cp >= 0xd800 && cp <= 0xdfff
        ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
            .map((b) => `%${b.toString(16).toUpperCase()}`)
            .join('')
        : encodeURIComponent(ch);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '🦊',
  'me',
  '*',
  '../..',
  '%00',
  'null',
  '__proto__',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  'a'.repeat(300),
  'é'.repeat(120),
  '0',
  '-1',
  '1e400',
];

const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ maxLength: 24 }),
);

const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -0, -1, 2 ** 53 + 2, 1e21, 1e308, -1e308, 0.5),
);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(nastyString, { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Raw JSON texts no JSON.stringify would write. */
const RAW_VALUES = [
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '"\\ud800"',
  '"a\\u0000b"',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
];

interface Fixtures {
  admin: MadeUser;
  victim: MadeUser;
  /** A second admin who acts on routes about the caller themselves (/users/me..., logout). */
  self: MadeUser;
  ids: Record<string, string[]>;
  strings: string[];
}

function validString(s: Schema, fx: Fixtures): fc.Arbitrary<string> {
  if (s.format === 'email') return fc.constantFrom(uniqueEmail('fuzz'), fx.victim.email);
  if (s.format === 'date-time')
    return fc.constantFrom(new Date(Date.now() + 86_400_000).toISOString(), '2001-01-01T00:00:00Z');
  if (s.format === 'password') return fc.constantFrom('a long enough password', 'short');
  return fc.constantFrom(...fx.strings);
}

function valid(
  s: Schema | undefined,
  doc: OpenApiDoc,
  fx: Fixtures,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!s) return nastyValue;
  if (s.$ref) return valid(resolve(doc, s.$ref), doc, fx, depth);
  if (s.allOf?.[0]) return valid(s.allOf[0], doc, fx, depth);
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type ?? 'object') {
    case 'string':
      return validString(s, fx);
    case 'integer':
    case 'number':
      return fc.integer({ min: 0, max: 3 });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(valid(s.items, doc, fx, depth + 1), { maxLength: 3 });
    default:
      if (s.properties && depth <= 3) return objectOf(s, doc, fx, depth + 1);
      return fc.dictionary(fc.string({ maxLength: 6 }), nastyValue, { maxKeys: 3 });
  }
}

function resolve(doc: OpenApiDoc, ref: string): Schema {
  const name = ref.replace('#/components/schemas/', '');
  const s = doc.components?.schemas?.[name];
  assert.ok(s, `unresolved ${ref}`);
  return s;
}

/** A schema-shaped object whose fields are, at random, valid, hostile, null or left out. */
function objectOf(
  s: Schema,
  doc: OpenApiDoc,
  fx: Fixtures,
  depth: number,
): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.entries(s.properties ?? {});
  const entries = fields.map(([name, prop]) =>
    fc
      .option(fc.oneof({ weight: 3, arbitrary: valid(prop, doc, fx, depth) }, nastyValue), {
        freq: 4,
        nil: undefined,
      })
      .map((v) => [name, v] as const),
  );
  return fc.tuple(...entries).map((pairs) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of pairs) if (v !== undefined) o[k] = v;
    return o;
  });
}

/** Adds a raw JSON member (a prototype key, a huge number, ...) to an object's JSON text. */
function withRawMember(json: string, key: string, raw: string): string {
  const member = `${JSON.stringify(key)}:${raw}`;
  return json === '{}' ? `{${member}}` : `{${member},${json.slice(1)}`;
}

/** `levels` objects nested inside each other, as JSON text. */
function deepJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** The object with a bad character put into the value of `key` (or into its first item). */
function poison(
  o: Record<string, unknown>,
  key: string,
  bad: string,
  front: boolean,
): Record<string, unknown> {
  const spoil = (v: unknown): unknown =>
    typeof v === 'string' ? (front ? bad + v : v + bad) : Array.isArray(v) ? [spoil(v[0])] : bad;
  return { ...o, [key]: spoil(o[key]) };
}

function bodyOf(op: Operation, doc: OpenApiDoc, fx: Fixtures): fc.Arbitrary<Body | null> {
  if (!op.body) {
    // A body the route does not take, now and then.
    return fc.option(fc.constant<Body>({ type: 'json', text: '{"unexpected":true}' }), {
      freq: 5,
    });
  }
  const schema = op.body.json ? resolveDeep(op.body.json, doc) : undefined;
  const keys = Object.keys(schema?.properties ?? {});
  const someKey = keys.length ? fc.constantFrom(...keys) : fc.constant('field');
  const shaped = schema ? objectOf(schema, doc, fx, 0) : fc.constant({});
  const json = (text: string): Body => ({ type: 'json', text });
  const arbs: fc.WeightedArbitrary<Body>[] = [
    { weight: 2, arbitrary: shaped.map((o) => json(JSON.stringify(o))) },
    {
      // A valid-looking value with one bad character in it, so it gets past the format checks.
      weight: 2,
      arbitrary: fc
        .tuple(shaped, someKey, fc.constantFrom('\ud800', '\udfff', '\u0000'), fc.boolean())
        .map(([o, k, bad, front]) => json(JSON.stringify(poison(o, k, bad, front)))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(shaped, fc.constantFrom('__proto__', 'constructor', 'prototype'))
        .map(([o, k]) => json(withRawMember(JSON.stringify(o), k, '{"isAdmin":true}'))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(shaped, someKey, fc.constantFrom(...RAW_VALUES))
        .map(([o, k, raw]) => json(withRawMember(JSON.stringify(o), k, raw))),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(shaped, someKey, fc.constantFrom(31, 32, 33, 100, 3000, 5000))
        .map(([o, k, n]) => json(withRawMember(JSON.stringify(o), k, deepJson(n)))),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => json(JSON.stringify(v))) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })
        .map((v) => json(JSON.stringify(v))),
    },
  ];
  if (op.body.form) {
    arbs.push({
      weight: 2,
      arbitrary: fc.dictionary(someKey, nastyString, { maxKeys: 4 }).map((d): Body => ({
        type: 'form',
        text: Object.entries(d)
          .map(([k, v]) => `${pct(k)}=${pct(v)}`)
          .join('&'),
      })),
    });
  }
  return fc.oneof(...arbs);
}

function resolveDeep(s: Schema, doc: OpenApiDoc): Schema {
  return s.$ref ? resolveDeep(resolve(doc, s.$ref), doc) : s;
}

interface Body {
  type: 'json' | 'form';
  text: string;
}

interface Case {
  path: string;
  query: string;
  body: Body | null;
}

const MALFORMED_SEGMENTS = [
  '%00',
  '%ZZ',
  '%',
  '%ED%A0%80',
  '%FF',
  '..',
  'a%2Fb',
  '%20',
  'x'.repeat(400),
];

function caseOf(op: Operation, doc: OpenApiDoc, fx: Fixtures): fc.Arbitrary<Case> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const segment = (p: Parameter): fc.Arbitrary<string> => {
    const known = fx.ids[p.name] ?? [];
    return fc.oneof(
      { weight: 3, arbitrary: known.length ? fc.constantFrom(...known) : fc.constant('x') },
      fc.constantFrom(...MALFORMED_SEGMENTS),
      nastyString.filter((s) => s !== '').map(pct),
    );
  };
  const path = fc
    .tuple(...pathParams.map((p) => segment(p).map((v) => [p.name, v] as const)))
    .map((pairs) => pairs.reduce((acc, [name, v]) => acc.replace(`{${name}}`, v), op.path));
  const queryPart = (p: Parameter): fc.Arbitrary<string | null> =>
    fc.option(
      fc
        .oneof(
          {
            weight: 2,
            arbitrary: valid(p.schema, doc, fx).map((v) =>
              pct(typeof v === 'string' ? v : (JSON.stringify(v) ?? '')),
            ),
          },
          nastyString.map(pct),
          fc.constantFrom('%00', '%ZZ', '%ED%A0%80'),
        )
        .map((v) => `${pct(p.name)}=${v}`),
      { freq: 3 },
    );
  const extra = fc.option(
    fc.constantFrom(
      '__proto__=1',
      'constructor[prototype][x]=1',
      'limit=1&limit=2',
      'x=%00',
      '%ZZ',
    ),
    { freq: 4 },
  );
  const query = fc
    .tuple(fc.tuple(...queryParams.map(queryPart)), extra)
    .map(([parts, e]) => [...parts, e].filter((x): x is string => x !== null).join('&'));
  return fc.record({ path, query, body: bodyOf(op, doc, fx) });
}

// ---------------------------------------------------------------------------------------------
// Answers

type Shape = 'problem' | 'oauth' | 'html';

function shapeOf(op: Operation): Shape {
  if (op.path.startsWith(`${API}/oauth/`) || op.path.startsWith('/.well-known/')) return 'oauth';
  if (op.tags.includes('pages') || op.path.startsWith(`${API}/auth/oidc/`)) return 'html';
  return 'problem';
}

/** Whether some segment of the path is not valid percent-encoded UTF-8. */
function undecodable(path: string): boolean {
  return path.split('/').some((seg) => {
    try {
      decodeURIComponent(seg);
      return false;
    } catch {
      return true;
    }
  });
}

/** The paths that answer machines (src/common/http/html.ts): everything else answers HTML. */
const MACHINE_PATH = /^\/(api|scim|\.well-known|health|metrics|oauth|oidc)(\/|$)/;

function checkAnswer(op: Operation, path: string, res: Response): string | null {
  if (res.status >= 500) return `answered ${res.status}`;
  if (res.status < 400) return null;
  const type = res.headers['content-type'] ?? '';
  // A path the router cannot decode matches no route: the generic 400, problem+json on the API's
  // paths and an HTML page on the pages' paths (src/common/http/html.ts, isMachinePath).
  const shape =
    undecodable(path) && res.status === 400
      ? shapeOf(op) === 'html' && !MACHINE_PATH.test(path)
        ? 'html'
        : 'problem'
      : shapeOf(op);
  if (shape === 'html') {
    return /^text\/html/.test(type) ? null : `a ${res.status} that is not HTML (${type})`;
  }
  if (shape === 'oauth') {
    const b = res.body as { error?: unknown; error_description?: unknown };
    return /^application\/json/.test(type) && typeof b.error === 'string'
      ? null
      : `a ${res.status} that is not an RFC 6749 error (${type}: ${res.text.slice(0, 200)})`;
  }
  const b = res.body as { status?: unknown; title?: unknown; detail?: unknown; type?: unknown };
  if (
    /^application\/problem\+json/.test(type) &&
    b.status === res.status &&
    typeof b.title === 'string' &&
    typeof b.detail === 'string' &&
    typeof b.type === 'string'
  )
    return null;
  return `a ${res.status} that is not problem+json (${type}: ${res.text.slice(0, 200)})`;
}

// ---------------------------------------------------------------------------------------------

/**
 * Fresh rows for one operation, so a run that deletes or changes one (DELETE a workspace, disable
 * a user) spoils only the later runs of that same operation. The acting admin is never a target
 * of a write: path ids that would name them are replaced by the victim's.
 */
async function fixtures(t: TestApp, admin: MadeUser): Promise<Fixtures> {
  const victim = await makeUser(t, { fullName: 'Victim' });
  const ws = await createWorkspace(t, admin.auth);
  const project = (await createProject(t, admin.auth, ws.domain)) as { id: string };
  await setWorkspaceRole(t, admin.auth, ws.domain, victim.user.id, 'user');
  const group = await createGroup(t, admin.auth, ws.domain, [victim.user.id]);
  const role = await makeRole(t, { permissions: ['audit.read'] });
  const self = await makeUser(t, { role: 'admin' });
  const key = await makeApiKey(t, victim);
  await ok(
    t.http
      .post(`${API}/projects/${project.id}/members`)
      .set(admin.auth)
      .send({ role: 'member', userId: victim.user.id }),
    201,
    'add project member',
  );
  const sessions = await ok<{ items: { id: string }[] }>(
    t.http.get(`${API}/users/${victim.user.id}/sessions`).set(admin.auth),
    200,
    'list sessions',
  );
  const someId = '0197aaaa-0000-7000-8000-000000000000';
  return {
    admin,
    victim,
    self,
    ids: {
      id: [victim.user.id, project.id, group.id, someId, 'me'],
      userId: [victim.user.id, someId],
      memberId: [victim.user.id, someId],
      keyId: [key.id, someId],
      gid: [someId],
      sid: [...sessions.items.map((s) => s.id), someId],
      service: ['github', 'x'],
      name: [role.name, 'auditors', 'admin'],
      domain: [ws.domain, 'no-such-domain'],
      provider: ['idp', 'none'],
    },
    strings: [ws.domain, project.id, group.id, victim.user.id, tag('Name'), 'a long enough text'],
  };
}

/** Routes about the caller themselves (password, profile, sign-out): a throwaway admin acts. */
function aboutSelf(op: Operation): boolean {
  return op.path.startsWith(`${API}/users/me`) || op.path === `${API}/auth/logout`;
}

/**
 * The acting admin must survive every case (or later ones mean nothing): on a write, a path id
 * naming them (or `me`) names the victim instead. Other ids, the victim's included, are fair game.
 */
function spareAdmin(op: Operation, path: string, fx: Fixtures): string {
  if (op.method === 'get' || aboutSelf(op)) return path;
  return path
    .replace(/\/users\/me(?=\/|$)/, `/users/${fx.victim.user.id}`)
    .split(fx.admin.user.id)
    .join(fx.victim.user.id);
}

async function send(t: TestApp, op: Operation, c: Case, auth: Record<string, string>) {
  const url = c.query ? `${c.path}?${c.query}` : c.path;
  const req = t.http[op.method as 'get'](url).set(auth).timeout(REQUEST_TIMEOUT_MS);
  if (!c.body) return req;
  return req
    .set(
      'Content-Type',
      c.body.type === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    )
    .send(c.body.text);
}

describe('fuzzing every operation of the OpenAPI document', () => {
  let t: TestApp;
  let admin: MadeUser;
  let doc: OpenApiDoc;
  let ops: Operation[] = [];
  const started = Date.now();
  let sent = 0;

  before(async () => {
    t = await createTestApp({ LOCKOUT_THRESHOLD: '1000' });
    admin = await makeUser(t, { role: 'admin' });
    const res = await t.http.get('/api/openapi.json');
    assert.equal(res.status, 200);
    doc = res.body as OpenApiDoc;
    ops = operationsOf(doc);
  });
  after(async () => {
    await t.close();
  });

  it('finds the operations of the document (none skipped)', () => {
    assert.ok(ops.length >= 70, `only ${ops.length} operations`);
  });

  it('answers every generated request without a 5xx, and every 4xx in its documented shape', async (ctx) => {
    const failures: string[] = [];
    let fx: Fixtures | null = null;
    let spoiled = true;
    for (const op of ops) {
      // Fresh fixtures after any operation that may have changed them (reads leave them as they were).
      if (spoiled || !fx) fx = await fixtures(t, admin);
      spoiled = op.method !== 'get';
      const f = fx;
      const where = `${op.method.toUpperCase()} ${op.path}`;
      const result = await fc.check(
        fc.asyncProperty(caseOf(op, doc, f), async (c) => {
          for (const [who, auth] of [
            ['anonymous', {}],
            ['admin', aboutSelf(op) ? f.self.auth : admin.auth],
          ] as const) {
            const path = who === 'admin' ? spareAdmin(op, c.path, f) : c.path;
            const res = await send(t, op, { ...c, path }, auth);
            sent++;
            const problem = checkAnswer(op, path, res);
            if (problem) {
              throw new Error(
                `${where} as ${who}: ${problem}\n  request: ${op.method.toUpperCase()} ${path}${
                  c.query ? `?${c.query}` : ''
                }${c.body ? `\n  body (${c.body.type}): ${c.body.text.slice(0, 300)}` : ''}`,
              );
            }
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      if (result.failed) {
        failures.push(
          result.errorInstance instanceof Error
            ? result.errorInstance.message
            : `${where}: ${String(result.errorInstance)}`,
        );
      }
      // The admin must still be an admin with a working session: the fixture rules held.
      const me = await t.http.get(`${API}/auth/whoami`).set(admin.auth);
      assert.equal(me.status, 200, `after ${where} the acting admin lost their session`);
      assert.equal(me.body.user?.role ?? me.body.role, 'admin', `after ${where}`);
    }
    ctx.diagnostic(
      `${ops.length} operations, ${RUNS} runs each (seed ${SEED}), ${sent} requests in ${
        Date.now() - started
      } ms`,
    );
    assert.deepEqual(failures, [], `${failures.length} operations failed:\n${failures.join('\n')}`);
  });
});
