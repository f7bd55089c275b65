import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/app.js';

const run = promisify(execFile);

interface Operation {
  [extension: `x-${string}`]: unknown;
  operationId?: string;
  security?: unknown[];
  requestBody?: { content?: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

function operations(doc: Document): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ method, path, op })),
  );
}

/** Exit code and output of a child process, without throwing on a non-zero exit. */
async function exec(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  try {
    const r = await run(file, args, {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout}${e.stderr}` };
  }
}

// A small program written as a client author would: typed by the generated `paths`.
const CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:3000' });

export async function calls(): Promise<string[]> {
  const out: string[] = [];
  const signedIn = await client.POST('/api/v1/auth/login', {
    body: { username: 'ada@example.test', password: 'correct horse battery staple' },
  });
  if (signedIn.data && 'token' in signedIn.data) {
    const token: string = signedIn.data.token;
    // Null for a service account (which never signs in, but the type is the user's).
    const email: string | null = signedIn.data.user.email;
    out.push(token, email ?? '');
  } else if (signedIn.data) {
    // A second factor is in force: the answer is a challenge for POST /auth/login/mfa.
    const mfaToken: string = signedIn.data.mfaToken;
    out.push(mfaToken);
  }
  if (signedIn.error) {
    const status: number = signedIn.error.status;
    out.push(String(status));
  }

  const users = await client.GET('/api/v1/users', { params: { query: { limit: 10 } } });
  if (users.data) {
    out.push(...users.data.items.map((u) => u.email ?? u.id));
    const next: string | null = users.data.nextCursor;
    out.push(next ?? '');
  }

  const project = await client.POST('/api/v1/projects', {
    body: { name: 'Apollo', workspace: 'moon' },
  });
  if (project.data) {
    const id: string = project.data.id;
    const permissions: string[] = project.data.permissions;
    out.push(id, ...permissions);
  }
  if (project.error) {
    const field: string | undefined = project.error.errors?.[0]?.field;
    out.push(field ?? '');
  }

  const member = await client.PATCH('/api/v1/projects/{id}/members/{memberId}', {
    params: { path: { id: 'p', memberId: 'm' } },
    body: { role: 'reader' },
  });
  if (member.data) out.push(member.data.memberType);
  return out;
}
`;

// Each line is a mistake the generated types must refuse.
const WRONG = `
import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:3000' });

export async function calls(): Promise<void> {
  await client.POST('/api/v1/auth/login', { body: { user: 'ada', password: 'x' } });
  const users = await client.GET('/api/v1/users');
  if (users.data) users.data.items.map((u) => u.emial);
  await client.POST('/api/v1/projects', { body: { name: 42, workspace: 'moon' } });
}
`;

describe('the OpenAPI contract', () => {
  let t: TestApp;
  let doc: Document;
  let dir: string;
  before(async () => {
    t = await createTestApp();
    const res = await t.http.get('/api/openapi.json');
    assert.equal(res.status, 200);
    doc = res.body as Document;
    // Inside the project, so the client program resolves openapi-fetch from its node_modules.
    dir = await mkdtemp(join(process.cwd(), 'dist', 'contract-'));
    await writeFile(join(dir, 'openapi.json'), JSON.stringify(doc));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes Redocly lint with the recommended rules, without errors', async () => {
    const { code, out } = await exec(
      process.execPath,
      [
        'node_modules/@redocly/cli/bin/cli.js',
        'lint',
        join(dir, 'openapi.json'),
        '--config',
        'redocly.yaml',
        '--format',
        'json',
      ],
      { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    );
    const json = out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1);
    const report = JSON.parse(json) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: string; message: string }[];
    };
    const errors = report.problems.filter((p) => p.severity === 'error');
    assert.deepEqual(errors, [], 'Redocly errors');
    assert.equal(report.totals.errors, 0);
    assert.equal(code, 0);
  });

  it('names every operation with a unique camelCase operationId', () => {
    const ids = operations(doc).map(({ method, path, op }) => {
      assert.match(op.operationId ?? '', /^[a-z][a-zA-Z]+$/, `${method} ${path}`);
      return op.operationId;
    });
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    const byId = new Map(operations(doc).map((o) => [o.op.operationId, `${o.method} ${o.path}`]));
    assert.equal(byId.get('listUsers'), 'get /api/v1/users');
    assert.equal(byId.get('createProject'), 'post /api/v1/projects');
    assert.equal(byId.get('login'), 'post /api/v1/auth/login');
  });

  it('declares a success answer on every operation, with a schema for JSON bodies', () => {
    for (const { method, path, op } of operations(doc)) {
      const success = Object.entries(op.responses).filter(([s]) => /^[23]\d\d$/.test(s));
      assert.ok(success.length > 0, `${method} ${path} declares no success`);
      for (const [status, r] of success) {
        const json = r.content?.['application/json'] as { schema?: unknown } | undefined;
        if (json) assert.ok(json.schema, `${method} ${path} ${status} has no schema`);
      }
    }
  });

  it('declares problem+json errors: 401 on authenticated routes, 429 on rate-limited ones', () => {
    for (const { method, path, op } of operations(doc)) {
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (!isPublic) {
        assert.ok(op.responses['401'], `${method} ${path} declares no 401`);
        assert.ok(
          op.responses['401']?.content?.['application/problem+json'],
          `${method} ${path}: 401 is not problem+json`,
        );
      }
    }
    const login = doc.paths['/api/v1/auth/login']?.['post'];
    assert.ok(login?.responses['429']?.content?.['application/problem+json']);
    const createProject = doc.paths['/api/v1/projects']?.['post'];
    for (const status of ['400', '401', '403', '409'])
      assert.ok(createProject?.responses[status], `POST /projects declares ${status}`);
  });

  it('marks public routes with security: [] and others with bearer or cookie', () => {
    const login = doc.paths['/api/v1/auth/login']?.['post'];
    assert.deepEqual(login?.security, []);
    assert.deepEqual(doc.paths['/health/live']?.['get']?.security, []);
    const users = doc.paths['/api/v1/users']?.['get'];
    assert.deepEqual(users?.security, [{ bearer: [] }, { cookie: [] }]);
    for (const { op } of operations(doc)) {
      assert.equal(op['x-gatehouse-public'], undefined);
    }
  });

  it('names the server and both encodings of the token request', () => {
    assert.deepEqual(doc.servers, [{ url: TEST_PUBLIC_URL }]);
    const token = doc.paths['/api/v1/oauth/token']?.['post'];
    assert.deepEqual(Object.keys(token?.requestBody?.content ?? {}).sort(), [
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
    assert.ok(token?.responses['400']?.content?.['application/json'], 'OAuth error body');
  });

  it('generates a TypeScript client that type-checks calls, and refuses wrong ones', async () => {
    const ast = await openapiTS(JSON.stringify(doc));
    await writeFile(join(dir, 'schema.d.ts'), astToString(ast));
    await writeFile(join(dir, 'client.ts'), CLIENT);
    await writeFile(join(dir, 'wrong.ts'), WRONG);
    // One project per program, so each is checked alone (as the project's own settings).
    const tsc = async (file: string) => {
      const config = join(dir, `tsconfig.${file}.json`);
      await writeFile(
        config,
        JSON.stringify({
          compilerOptions: {
            noEmit: true,
            strict: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: true,
            target: 'es2023',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            types: [],
          },
          files: [file],
        }),
      );
      return exec(process.execPath, ['node_modules/typescript/bin/tsc', '-p', config]);
    };
    const [good, wrong] = await Promise.all([tsc('client.ts'), tsc('wrong.ts')]);
    assert.equal(good.code, 0, good.out);
    assert.notEqual(wrong.code, 0, 'the wrong calls compiled');
    assert.match(
      wrong.out,
      /'user' does not exist|Object literal may only specify known properties/,
    );
    assert.match(wrong.out, /Property 'emial' does not exist/);
    assert.match(wrong.out, /Type 'number' is not assignable to type 'string'/);
  });
});
