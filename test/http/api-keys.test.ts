import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '#src/crypto/tokens.js';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';
import { Database } from '#src/database/database.service.js';
import { User } from '#src/users/user.entity.js';
import { UserEventBus } from '#src/kernel/events.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { auditOf, flip, makeApiKey, tableDump } from '../factories/credentials.js';
import { makeUser } from '../factories/users.js';

const keyRow = (t: TestApp, id: string) => t.db.getRepository(ApiKey).findOneByOrFail({ id });

describe('API keys', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('creates a key shown once with no-store, stores only its hash and audits it', async () => {
    const owner = await makeUser(t);
    const res = await t.http
      .post(`/api/v1/users/${owner.user.id}/api-keys`)
      .set(owner.auth)
      .send({ name: 'ci deploy' });
    assert.equal(res.status, 201);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(res.body.key, /^gth_[A-Za-z0-9_-]{43}[0-9a-f]{8}$/);
    assert.equal(res.body.prefix, res.body.key.slice(0, 10));
    assert.equal(res.body.name, 'ci deploy');
    const row = await keyRow(t, res.body.id);
    assert.equal(row.keyHash, sha256Hex(res.body.key));
    assert.equal(row.userId, owner.user.id);
    const dump = await tableDump(t, 'api_keys');
    assert.ok(!dump.includes(res.body.key), 'the plaintext key is not in the database');
    assert.ok(!dump.includes(res.body.key.slice(10, 40)), 'nor is its random body');
    const audit = await auditOf(t, 'api_key.create', owner.user.id);
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]!.changes.includes(res.body.key.slice(10, 40)));
    assert.equal(JSON.parse(audit[0]!.changes).apiKeyId, res.body.id);
  });

  it('authenticates with the key in the Authorization header and records last use', async () => {
    const owner = await makeUser(t);
    const k = await makeApiKey(t, owner);
    assert.equal((await keyRow(t, k.id)).lastUsedAt, null);
    const who = await t.http.get('/api/v1/auth/whoami').set(k.auth);
    assert.equal(who.status, 200);
    assert.equal(who.body.id, owner.user.id);
    assert.deepEqual(who.body.credential, { kind: 'api_key', id: k.id });
    const used = (await keyRow(t, k.id)).lastUsedAt;
    assert.ok(used instanceof Date);
    // At most once a minute: a second call does not move it.
    await t.http.get('/api/v1/auth/whoami').set(k.auth).expect(200);
    assert.equal((await keyRow(t, k.id)).lastUsedAt?.getTime(), used.getTime());
  });

  it('lists keys without their secret, newest first, keyset-paginated', async () => {
    const owner = await makeUser(t);
    const a = await makeApiKey(t, owner, { name: 'a' });
    const b = await makeApiKey(t, owner, { name: 'b' });
    const page1 = await t.http.get(`/api/v1/users/me/api-keys?limit=1`).set(owner.auth);
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.body.items.map((i: { id: string }) => i.id),
      [b.id],
    );
    assert.ok(page1.body.nextCursor);
    const page2 = await t.http
      .get(`/api/v1/users/${owner.user.id}/api-keys?limit=1&cursor=${page1.body.nextCursor}`)
      .set(owner.auth);
    assert.deepEqual(
      page2.body.items.map((i: { id: string }) => i.id),
      [a.id],
    );
    assert.equal(page2.body.nextCursor, null);
    const text = JSON.stringify([page1.body, page2.body]);
    assert.ok(!text.includes(a.key) && !text.includes(b.key));
    assert.equal(page1.body.items[0].key, undefined);
  });

  it("refuses a key with a flipped character, a revoked, an expired and a disabled owner's key: 401 each", async () => {
    const owner = await makeUser(t);
    const k = await makeApiKey(t, owner);
    const flipped = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${flip(k.key)}`);
    assert.equal(flipped.status, 401);
    assert.equal(flipped.headers['content-type'], 'application/problem+json; charset=utf-8');

    // revoked
    const revoked = await makeApiKey(t, owner);
    await t.http
      .delete(`/api/v1/users/${owner.user.id}/api-keys/${revoked.id}`)
      .set(owner.auth)
      .expect(204);
    assert.ok((await keyRow(t, revoked.id)).revokedAt instanceof Date);
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(revoked.auth)).status, 401);
    const refused = await auditOf(t, 'api_key.use_refused', owner.user.id);
    assert.equal(refused.length, 1);
    assert.equal(JSON.parse(refused[0]!.changes).reason, 'revoked');
    assert.equal((await auditOf(t, 'api_key.revoke', owner.user.id)).length, 1);

    // expired
    const expiring = await makeApiKey(t, owner, {
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await t.http.get('/api/v1/auth/whoami').set(expiring.auth).expect(200);
    await t.db
      .getRepository(ApiKey)
      .update({ id: expiring.id }, { expiresAt: new Date(Date.now() - 1000) });
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(expiring.auth)).status, 401);
    const reasons = (await auditOf(t, 'api_key.use_refused', owner.user.id)).map(
      (e) => JSON.parse(e.changes).reason,
    );
    assert.deepEqual(reasons, ['revoked', 'expired']);

    // the owner disabled (status only, no hook): the very next request fails
    await t.http.get('/api/v1/auth/whoami').set(k.auth).expect(200);
    await t.db.getRepository(User).update({ id: owner.user.id }, { status: 'disabled' });
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(k.auth)).status, 401);
  });

  it('accepts a key only in the Authorization header: never in the query string or a cookie', async () => {
    const owner = await makeUser(t);
    const k = await makeApiKey(t, owner);
    for (const param of ['api_key', 'apiKey', 'access_token', 'key', 'token']) {
      const res = await t.http.get(`/api/v1/auth/whoami?${param}=${encodeURIComponent(k.key)}`);
      assert.equal(res.status, 401, param);
    }
    const cookie = await t.http.get('/api/v1/auth/whoami').set('Cookie', `gh_session=${k.key}`);
    assert.equal(cookie.status, 401);
    await t.http.get('/api/v1/auth/whoami').set(k.auth).expect(200);
  });

  it("narrows the owner's permissions by scopes, refusing unknown scopes (400) and scopes beyond the owner (422)", async () => {
    const owner = await makeUser(t);
    const unknown = await t.http
      .post(`/api/v1/users/me/api-keys`)
      .set(owner.auth)
      .send({ name: 'x', scopes: ['nope.nothing'] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].field, 'scopes');
    const beyond = await t.http
      .post(`/api/v1/users/me/api-keys`)
      .set(owner.auth)
      .send({ name: 'x', scopes: ['users.manage'] });
    assert.equal(beyond.status, 422);
    assert.equal(beyond.body.rule, 'scope_exceeds_owner');
    const k = await makeApiKey(t, owner, { scopes: ['workspaces.create'] });
    const who = await t.http.get('/api/v1/auth/whoami').set(k.auth);
    assert.deepEqual(who.body.permissions, ['workspaces.create']);
    assert.deepEqual((await keyRow(t, k.id)).scopes, ['workspaces.create']);
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: owner.user.id }), 1);

    // An admin's key scoped to users.read cannot manage other users' keys; unscoped it can.
    const admin = await makeUser(t, { role: 'admin' });
    const readOnly = await makeApiKey(t, admin, { scopes: ['users.read'] });
    const full = await makeApiKey(t, admin);
    assert.equal(
      (await t.http.get(`/api/v1/users/${owner.user.id}/api-keys`).set(readOnly.auth)).status,
      403,
    );
    assert.equal(
      (await t.http.get(`/api/v1/users/${owner.user.id}/api-keys`).set(full.auth)).status,
      200,
    );
  });

  it('refuses bad input: no name, a past expiry, unknown fields', async () => {
    const owner = await makeUser(t);
    const res = await t.http
      .post(`/api/v1/users/me/api-keys`)
      .set(owner.auth)
      .send({ expiresAt: 'tomorrow', role: 'admin' });
    assert.equal(res.status, 400);
    const fields = [...new Set(res.body.errors.map((e: { field: string }) => e.field))].sort();
    assert.deepEqual(fields, ['expiresAt', 'name', 'role']);
    const past = await t.http
      .post(`/api/v1/users/me/api-keys`)
      .set(owner.auth)
      .send({ name: 'x', expiresAt: new Date(Date.now() - 1000).toISOString() });
    assert.equal(past.status, 400);
    assert.equal(past.body.errors[0].field, 'expiresAt');
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: owner.user.id }), 0);
  });

  it("lets only the owner or an admin reach a user's keys; 401 without a caller", async () => {
    const owner = await makeUser(t);
    const other = await makeUser(t);
    const admin = await makeUser(t, { role: 'admin' });
    const k = await makeApiKey(t, owner);
    const base = `/api/v1/users/${owner.user.id}/api-keys`;

    // no caller
    assert.equal((await t.http.post(base).send({ name: 'x' })).status, 401);
    assert.equal((await t.http.get(base)).status, 401);
    assert.equal((await t.http.delete(`${base}/${k.id}`)).status, 401);
    // wrong caller
    assert.equal((await t.http.post(base).set(other.auth).send({ name: 'x' })).status, 403);
    assert.equal((await t.http.get(base).set(other.auth)).status, 403);
    assert.equal((await t.http.delete(`${base}/${k.id}`).set(other.auth)).status, 403);
    // someone else's key through one's own path: 404
    assert.equal(
      (await t.http.delete(`/api/v1/users/me/api-keys/${k.id}`).set(other.auth)).status,
      404,
    );
    assert.equal((await keyRow(t, k.id)).revokedAt, null);
    // an admin: allowed; an unknown user: 404
    const made = await t.http.post(base).set(admin.auth).send({ name: 'by admin' });
    assert.equal(made.status, 201);
    assert.equal((await keyRow(t, made.body.id)).userId, owner.user.id);
    const listed = await t.http.get(base).set(admin.auth);
    assert.equal(listed.body.items.length, 2);
    assert.equal(
      (
        await t.http
          .get('/api/v1/users/0190aaaa-0000-7000-8000-000000000000/api-keys')
          .set(admin.auth)
      ).status,
      404,
    );
    await t.http.delete(`${base}/${k.id}`).set(admin.auth).expect(204);
    assert.ok((await keyRow(t, k.id)).revokedAt instanceof Date);
    assert.equal((await t.http.delete(`${base}/${k.id}`).set(admin.auth)).status, 404);
  });

  it('mints keys only from a signed-in session with credentials.create', async () => {
    const owner = await makeUser(t);
    const k = await makeApiKey(t, owner);
    const viaKey = await t.http.post('/api/v1/users/me/api-keys').set(k.auth).send({ name: 'x' });
    assert.equal(viaKey.status, 403);
    const reader = await makeUser(t, { role: 'reader' });
    const res = await t.http.post('/api/v1/users/me/api-keys').set(reader.auth).send({ name: 'x' });
    assert.equal(res.status, 403);
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: reader.user.id }), 0);
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: owner.user.id }), 1);
  });

  it('revokes the key used to log out, and every key on a password reset or when the owner is disabled', async () => {
    const owner = await makeUser(t);
    const a = await makeApiKey(t, owner);
    const b = await makeApiKey(t, owner);
    await t.http.post('/api/v1/auth/logout').set(a.auth).expect(204);
    assert.ok((await keyRow(t, a.id)).revokedAt instanceof Date);
    assert.equal((await keyRow(t, b.id)).revokedAt, null);

    const events = t.get(UserEventBus);
    const db = t.get(Database);
    // A password change by the owner (a session kept) leaves keys alone; a reset revokes them.
    await db.transaction((tx) =>
      events.emit(tx, 'user.credentials-changed', {
        userId: owner.user.id,
        keepSessionId: 'some-session',
      }),
    );
    assert.equal((await keyRow(t, b.id)).revokedAt, null);
    await db.transaction((tx) =>
      events.emit(tx, 'user.credentials-changed', { userId: owner.user.id, keepSessionId: null }),
    );
    assert.ok((await keyRow(t, b.id)).revokedAt instanceof Date);
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(b.auth)).status, 401);

    const other = await makeUser(t);
    const c = await makeApiKey(t, other);
    await db.transaction((tx) => events.emit(tx, 'user.disabled', { userId: other.user.id }));
    assert.ok((await keyRow(t, c.id)).revokedAt instanceof Date);
    assert.equal((await auditOf(t, 'api_key.revoke_all', other.user.id)).length, 1);
  });
});
