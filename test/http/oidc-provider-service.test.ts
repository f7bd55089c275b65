import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { User } from '#src/users/user.entity.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { makeRole } from '../factories/roles.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { createProject, createWorkspace, ok, setWorkspaceRole } from '../factories/workspaces.js';

const API = '/api/v1';

interface Created {
  clientId: string;
  clientSecret: string;
  serviceUserId: string;
}

/**
 * A client_credentials client's service account: a user with no email, who can never sign in, and
 * who otherwise is a person for the API (memberships, named roles, narrowing, audit).
 */
describe('service accounts of OAuth clients', () => {
  let t: TestApp;
  let origin: string;
  let admin: MadeUser;

  before(async () => {
    ({ t, origin } = await createListeningTestApp());
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  async function register(name: string, scopes?: string[]): Promise<Created> {
    const res = await t.http
      .post(`${API}/clients`)
      .set(admin.auth)
      .send({
        name,
        grantTypes: ['client_credentials'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        ...(scopes ? { scopes } : {}),
      });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as Created;
  }

  async function tokenFor(c: Created, scope?: string): Promise<string> {
    const config = await client.discovery(
      new URL(origin),
      c.clientId,
      undefined,
      client.ClientSecretBasic(c.clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
    const tokens = await client.clientCredentialsGrant(config, scope ? { scope } : {});
    return tokens.access_token;
  }

  it('has no email, is listed and paged with everyone, and can never sign in', async () => {
    const c = await register('Exporter');
    const res = await t.http.get(`${API}/users/${c.serviceUserId}`).set(admin.auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.email, null);
    assert.equal(res.body.fullName, 'Exporter');
    const row = await t.db.getRepository(User).findOneByOrFail({ id: c.serviceUserId });
    assert.equal(row.email, null);
    assert.equal(row.emailNormalized, null);
    assert.equal(row.kind, 'service');

    // A second one: NULL emails do not collide, and keyset paging walks past both.
    const d = await register('Importer');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } =
        await t.http
          .get(`${API}/users`)
          .query({ limit: 1, ...(cursor ? { cursor } : {}) })
          .set(admin.auth);
      assert.equal(page.status, 200);
      seen.push(...page.body.items.map((u) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor && seen.length < 50);
    const total = await t.db.getRepository(User).count();
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    assert.ok(seen.includes(c.serviceUserId) && seen.includes(d.serviceUserId));
    // Searched by its name (it has no email to match).
    const found = await t.http.get(`${API}/users`).query({ query: 'export' }).set(admin.auth);
    assert.equal(found.status, 200);
    assert.deepEqual(
      found.body.items.map((u: { id: string }) => u.id),
      [c.serviceUserId],
    );

    // Even with a password set by an admin, neither the API nor the sign-in page signs it in.
    await t.http
      .patch(`${API}/users/${c.serviceUserId}`)
      .set(admin.auth)
      .send({ password: 'Service-password-123' });
    for (const username of [c.serviceUserId, `${c.serviceUserId}@clients.invalid`]) {
      const login = await t.http
        .post(`${API}/auth/login`)
        .send({ username, password: 'Service-password-123' });
      assert.equal(login.status, 401, `${username}: ${JSON.stringify(login.body)}`);
      const page = await t.http
        .post('/signin')
        .type('form')
        .send({ username, password: 'Service-password-123' });
      assert.notEqual(page.status, 303);
      assert.equal(page.headers['set-cookie'], undefined);
    }
    assert.equal(await t.db.getRepository(Session).countBy({ userId: c.serviceUserId }), 0);
  });

  it('acts with exactly its memberships and named roles, narrowed by scope, audited under it', async () => {
    const owner = await makeUser(t, { role: 'user' });
    const ws = await createWorkspace(t, owner.auth);
    const mine = await createProject(t, owner.auth, ws.domain);
    const other = await createProject(t, owner.auth, ws.domain);
    const c = await register('Robot', ['gatehouse:projects', 'users.read', 'audit.read']);
    const sid = c.serviceUserId;

    await setWorkspaceRole(t, owner.auth, ws.domain, sid, 'user');
    await ok(
      t.http
        .post(`${API}/projects/${mine.id}/members`)
        .set(owner.auth)
        .send({ role: 'admin', userId: sid }),
      201,
      'service account as project admin',
    );
    const role = await makeRole(t, { permissions: ['users.read', 'audit.read'] });
    await ok(
      t.http
        .patch(`${API}/users/${sid}`)
        .set(admin.auth)
        .send({ roles: [role.name] }),
      200,
      'named role',
    );

    const full = await tokenFor(c, 'gatehouse:projects');
    const auth = { Authorization: `Bearer ${full}` };
    const claims = decodeJwt(full) as { sub: string; projects: Record<string, string[]> };
    assert.equal(claims.sub, sid);
    assert.deepEqual(Object.keys(claims.projects), [mine.id]);

    assert.equal((await t.http.get(`${API}/projects/${mine.id}`).set(auth)).status, 200);
    assert.ok(
      [403, 404].includes((await t.http.get(`${API}/projects/${other.id}`).set(auth)).status),
    );
    assert.equal(
      (await t.http.get(`${API}/users`).set(auth)).status,
      200,
      'users.read by its role',
    );
    assert.equal(
      (await t.http.get(`${API}/audit`).set(auth)).status,
      200,
      'audit.read by its role',
    );
    assert.equal(
      (await t.http.get(`${API}/users/${admin.user.id}`).set(auth)).status,
      200,
      'any user, by users.read',
    );
    assert.equal(
      (await t.http.post(`${API}/users`).set(auth).send({})).status,
      403,
      'no users.manage',
    );

    const renamed = await t.http
      .patch(`${API}/projects/${mine.id}`)
      .set(auth)
      .send({ name: 'Renamed by robot' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ actorId: sid, action: 'project.update', targetId: mine.id });
    assert.equal(audit.length, 1);

    // Narrowed by scope: each token keeps only the permissions it names.
    const onlyAudit = { Authorization: `Bearer ${await tokenFor(c, 'audit.read')}` };
    assert.equal((await t.http.get(`${API}/users`).set(onlyAudit)).status, 403);
    assert.equal((await t.http.get(`${API}/audit`).set(onlyAudit)).status, 200);
    const onlyUsers = await tokenFor(c, 'users.read');
    const usersAuth = { Authorization: `Bearer ${onlyUsers}` };
    assert.equal((await t.http.get(`${API}/users`).set(usersAuth)).status, 200);
    assert.equal((await t.http.get(`${API}/audit`).set(usersAuth)).status, 403);
    // A scope the client is not registered for is refused at the token endpoint.
    await assert.rejects(
      tokenFor(c, 'users.manage'),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_scope',
    );

    // Deleting the client disables the account; its tokens are refused with WWW-Authenticate.
    await ok(t.http.delete(`${API}/clients/${c.clientId}`).set(admin.auth), 204, 'delete client');
    for (const token of [full, onlyUsers]) {
      const refused = await t.http
        .get(`${API}/projects/${mine.id}`)
        .set({ Authorization: `Bearer ${token}` });
      assert.equal(refused.status, 401);
      assert.match(String(refused.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
    }
    const row = await t.db.getRepository(User).findOneByOrFail({ id: sid });
    assert.equal(row.status, 'disabled');
  });
});
