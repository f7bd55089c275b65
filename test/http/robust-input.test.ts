import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { API, sessionsOf, userRow } from '../factories/auth.js';
import { createGroup, createWorkspace, tag } from '../factories/workspaces.js';

/** `{"a":{"a":...{"a":1}}}` nested `levels` objects deep below the body. */
function nested(levels: number): Record<string, unknown> {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v as Record<string, unknown>;
}

/** The raw JSON text of a body holding `key` (JSON.stringify would drop a literal __proto__). */
function withKey(prefix: string, key: string, value: string): string {
  return `{${prefix}${JSON.stringify(key)}:${value}}`;
}

async function count(t: TestApp, table: string, where = '1=1', params: unknown[] = []) {
  const rows: { n: number | string }[] = await t.db.query(
    `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return Number(rows[0]?.n);
}

describe('Input that cannot hurt', () => {
  let t: TestApp;
  let admin: MadeUser;
  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  describe('JSON nested too deep', () => {
    it('refuses 3,000 levels on the public sign-in route with a 400, creating no session', async () => {
      const sessions = await count(t, 'sessions');
      const body = `{"username":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)},"password":"x"}`;
      assert.ok(body.length < 100 * 1024);
      const res = await t.http
        .post(`${API}/auth/login`)
        .set('Content-Type', 'application/json')
        .send(body);
      assertProblem(res, 400, `username${'.a'.repeat(31)}`, /nested deeper than 32 levels/);
      assert.equal(await count(t, 'sessions'), sessions);
    });

    it('takes 32 levels below the body and refuses 33, naming the field', async () => {
      const ok = await t.http
        .post(`${API}/auth/register`)
        .send({ email: uniqueEmail(), password: 'p'.repeat(12), fullName: nested(31) });
      assertProblem(ok, 400, 'fullName', /must be a string/);
      const deep = await t.http
        .post(`${API}/auth/register`)
        .send({ email: uniqueEmail(), password: 'p'.repeat(12), fullName: nested(32) });
      assertProblem(deep, 400, undefined, /nested deeper than 32 levels/);
      assert.equal(deep.body.errors[0].field, `fullName${'.a'.repeat(31)}`);
    });

    it('refuses deep JSON on an authenticated route before its resource rule reads it', async () => {
      const groups = await count(t, 'user_groups');
      const res = await t.http
        .post(`${API}/groups`)
        .set(admin.auth)
        .send({ name: 'g', workspace: nested(100), members: [] });
      assertProblem(res, 400, undefined, /nested deeper/);
      assert.match(res.body.errors[0].field, /^workspace\.a\.a/);
      assert.equal(await count(t, 'user_groups'), groups);
    });
  });

  describe('strings that are not well-formed Unicode, or hold NUL', () => {
    for (const [route, extra] of [
      ['/auth/register', { password: 'a long enough password' }],
      ['/auth/signup', { password: 'a long enough password' }],
      ['/auth/password-reset', {}],
    ] as const) {
      it(`refuses a lone surrogate in the email on ${route} (400 naming email), storing nothing`, async () => {
        const email = `x\ud800-${uniqueEmail()}`;
        const users = await count(t, 'users');
        const res = await t.http.post(`${API}${route}`).send({ email, ...extra });
        assertProblem(res, 400, 'email', /well-formed Unicode/);
        assert.equal(await count(t, 'users'), users);
      });
    }

    it('refuses a lone surrogate in POST /users and in adding workspace users', async () => {
      const users = await count(t, 'users');
      const created = await t.http
        .post(`${API}/users`)
        .set(admin.auth)
        .send({ email: `\udc00${uniqueEmail()}` });
      assertProblem(created, 400, 'email', /well-formed Unicode/);
      const ws = await createWorkspace(t, admin.auth);
      const members = await count(t, 'workspace_members');
      const added = await t.http
        .post(`${API}/workspaces/${ws.domain}/users`)
        .set(admin.auth)
        .send({ emails: [uniqueEmail(), `a\ud83d@example.test`], role: 'user' });
      assertProblem(added, 400, 'emails.1', /well-formed Unicode/);
      assert.equal(await count(t, 'users'), users);
      assert.equal(await count(t, 'workspace_members'), members);
    });

    it('takes a well-formed astral character (a surrogate pair) as ordinary text', async () => {
      const res = await t.http
        .patch(`${API}/users/me`)
        .set(admin.auth)
        .send({ fullName: 'Ada 🦊' });
      assert.equal(res.status, 200, res.text);
      assert.equal((await userRow(t, admin.user.id)).fullName, 'Ada 🦊');
    });

    it('refuses NUL in a body field, a form field, a query string and a path parameter', async () => {
      const body = await t.http
        .patch(`${API}/users/me`)
        .set(admin.auth)
        .send({ fullName: 'Ada\u0000Lovelace' });
      assertProblem(body, 400, 'fullName', /NUL/);
      assert.equal((await userRow(t, admin.user.id)).fullName, 'Ada 🦊');

      const form = await t.http
        .post(`${API}/auth/password-reset`)
        .type('form')
        .send('email=a%00b%40example.test');
      assertProblem(form, 400, 'email', /NUL/);

      const query = await t.http.get(`${API}/users?query=a%00b`).set(admin.auth);
      assertProblem(query, 400, 'query', /NUL/);

      const param = await t.http.get(`${API}/users/a%00b`).set(admin.auth);
      assertProblem(param, 400, 'id', /NUL/);
    });

    it('names a key that holds NUL escaped, and refuses it', async () => {
      const res = await t.http
        .patch(`${API}/users/me`)
        .set(admin.auth)
        .set('Content-Type', 'application/json')
        .send('{"data":{"a\\u0000b":1}}');
      assertProblem(res, 400, 'data.a\\u0000b', /NUL/);
    });
  });

  describe('prototype keys', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      it(`refuses "${key}" at the top level and nested, as an unknown field`, async () => {
        const top = await t.http
          .post(`${API}/auth/register`)
          .set('Content-Type', 'application/json')
          .send(withKey(`"email":"${uniqueEmail()}","password":"long enough pass",`, key, '{}'));
        assertProblem(top, 400, key, /not a known field/);

        const before = (await userRow(t, admin.user.id)).data;
        const deep = await t.http
          .patch(`${API}/users/me`)
          .set(admin.auth)
          .set('Content-Type', 'application/json')
          .send(`{"data":{"x":${withKey('', key, '{"isAdmin":true}')}}}`);
        assertProblem(deep, 400, `data.x.${key}`, /not a known field/);
        assert.deepEqual((await userRow(t, admin.user.id)).data, before);
        assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
      });
    }
  });

  describe('null in optional fields', () => {
    it('refuses password: null on POST /auth/activate naming the field', async () => {
      const res = await t.http.post(`${API}/auth/activate`).send({ token: 'x', password: null });
      assertProblem(res, 400, 'password', /must not be null/);
    });

    it('clears fullName with null on PATCH /users/me, and refuses data: null', async () => {
      const u = await makeUser(t, { fullName: 'Someone' });
      await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ data: { team: 'blue' } });
      const cleared = await t.http.patch(`${API}/users/me`).set(u.auth).send({ fullName: null });
      assert.equal(cleared.status, 200, cleared.text);
      assert.equal((await userRow(t, u.user.id)).fullName, null);
      const data = await t.http.patch(`${API}/users/me`).set(u.auth).send({ data: null });
      assertProblem(data, 400, 'data', /must not be null/);
      assert.deepEqual((await userRow(t, u.user.id)).data, { team: 'blue' });
    });

    it('refuses role: null and status: null on PATCH /users/:id, changing nothing', async () => {
      const u = await makeUser(t, { signIn: false });
      for (const field of ['role', 'status', 'roles', 'password', 'version']) {
        const res = await t.http
          .patch(`${API}/users/${u.user.id}`)
          .set(admin.auth)
          .send({ [field]: null });
        assertProblem(res, 400, field, /must not be null/);
      }
      const row = await userRow(t, u.user.id);
      assert.equal(row.role, 'user');
      assert.equal(row.status, 'active');
    });

    it('refuses name, members and projectId null on groups, and clears settings with null', async () => {
      const ws = await createWorkspace(t, admin.auth);
      const groups = await count(t, 'user_groups');
      for (const field of ['members', 'projectId', 'settings']) {
        const res = await t.http
          .post(`${API}/groups`)
          .set(admin.auth)
          .send({ name: tag('G'), workspace: ws.domain, [field]: null });
        assertProblem(res, 400, field, /must not be null/);
      }
      assert.equal(await count(t, 'user_groups'), groups);

      const g = await createGroup(t, admin.auth, ws.domain, [], { settings: { colour: 'red' } });
      for (const field of ['name', 'members', 'projects']) {
        const res = await t.http
          .patch(`${API}/groups/${g.id}`)
          .set(admin.auth)
          .send({ [field]: null });
        assertProblem(res, 400, field, /must not be null/);
      }
      const cleared = await t.http
        .patch(`${API}/groups/${g.id}`)
        .set(admin.auth)
        .send({ settings: null });
      assert.equal(cleared.status, 200, cleared.text);
      assert.deepEqual(cleared.body.settings, {});
      const rows: { name: string; settings: unknown }[] = await t.db.query(
        'SELECT name, settings FROM user_groups WHERE id = ?',
        [g.id],
      );
      assert.equal(rows[0]?.name, g.name);
      const stored = rows[0]?.settings;
      assert.deepEqual(typeof stored === 'string' ? JSON.parse(stored) : stored, {});
    });

    it('refuses null in a required field and in project members', async () => {
      const login = await t.http.post(`${API}/auth/login`).send({ username: null, password: 'x' });
      assertProblem(login, 400, 'username');
      const ws = await createWorkspace(t, admin.auth);
      const p = await t.http
        .post(`${API}/projects`)
        .set(admin.auth)
        .send({ name: tag('P'), workspace: ws.domain });
      assert.equal(p.status, 201, p.text);
      const members = await count(t, 'project_members', 'project_id = ?', [p.body.id]);
      const member = await t.http
        .post(`${API}/projects/${p.body.id}/members`)
        .set(admin.auth)
        .send({ role: 'member', userId: null, groupId: null });
      assertProblem(member, 400, 'userId', /must not be null/);
      assert.equal(await count(t, 'project_members', 'project_id = ?', [p.body.id]), members);
    });
  });

  describe('API key scopes', () => {
    it('refuses scopes ["*"] with a 422 naming scopes, storing no key', async () => {
      const keys = await count(t, 'api_keys');
      const res = await t.http
        .post(`${API}/users/me/api-keys`)
        .set(admin.auth)
        .send({ name: 'everything', scopes: ['*'] });
      assertProblem(res, 422, 'scopes', /narrows nothing/);
      assert.equal(res.body.rule, 'scope_not_narrowing');
      assert.equal(await count(t, 'api_keys'), keys);
    });
  });

  describe('answers in the shape of the route', () => {
    it('answers the OAuth token endpoint in RFC 6749 form', async () => {
      const res = await t.http
        .post(`${API}/oauth/token`)
        .send({ grant_type: 'refresh_token', refresh_token: 'a\u0000b' });
      assert.equal(res.status, 400);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(res.body.error, 'invalid_request');
      assert.match(res.body.error_description, /refresh_token/);
    });

    it('answers the sign-in page with an HTML page, signing nobody in', async () => {
      const u = await makeUser(t, { signIn: false });
      const res = await t.http
        .post('/signin')
        .set('Origin', t.origin)
        .type('form')
        .send(`username=${encodeURIComponent(u.email)}%00&password=x`);
      assert.equal(res.status, 400);
      assert.match(res.headers['content-type'] ?? '', /^text\/html/);
      assert.equal(res.headers['set-cookie'], undefined);
      assert.equal((await sessionsOf(t, u.user.id)).length, 0);
    });
  });
});
