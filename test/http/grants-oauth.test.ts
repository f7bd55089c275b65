import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { sha256Hex } from '#src/crypto/tokens.js';
import { Grant } from '#src/credentials/entities/grant.entity.js';
import { RefreshToken } from '#src/credentials/entities/refresh-token.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { auditOf, makeApiKey, makeGrant, refresh, tableDump } from '../factories/credentials.js';
import { makeUser } from '../factories/users.js';

const grantRow = (t: TestApp, id: string) => t.db.getRepository(Grant).findOneByOrFail({ id });

describe('grants and the refresh_token grant', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ ACCESS_TOKEN_MINUTES: '10' });
  });
  after(async () => t.close());

  it('creates a grant whose refresh token is shown once and stored hashed', async () => {
    const owner = await makeUser(t);
    const res = await t.http
      .post(`/api/v1/users/${owner.user.id}/grants`)
      .set(owner.auth)
      .send({ type: 'service', forClientId: 'billing' });
    assert.equal(res.status, 201);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(res.body.refreshToken, /^gthr_[A-Za-z0-9_-]{43}[0-9a-f]{8}$/);
    assert.equal(res.body.type, 'service');
    assert.equal(res.body.forClientId, 'billing');
    assert.equal(res.body.projectPermissions, null);
    const grant = await grantRow(t, res.body.id);
    assert.equal(grant.userId, owner.user.id);
    const days = (grant.expiresAt.getTime() - grant.createdAt.getTime()) / 86_400_000;
    assert.equal(Math.round(days), 90);
    const tokens = await t.db.getRepository(RefreshToken).findBy({ grantId: grant.id });
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0]!.tokenHash, sha256Hex(res.body.refreshToken));
    const dump = (await tableDump(t, 'grants')) + (await tableDump(t, 'refresh_tokens'));
    assert.ok(!dump.includes(res.body.refreshToken.slice(5, 40)));
    const audit = await auditOf(t, 'grant.create', owner.user.id);
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]!.changes.includes(res.body.refreshToken.slice(5, 40)));
    const list = await t.http.get('/api/v1/users/me/grants').set(owner.auth);
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].id, grant.id);
    assert.equal(list.body.items[0].refreshToken, undefined);
  });

  it('exchanges a refresh token for a signed access token and a rotated refresh token', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner, { type: 'user' });
    const res = await refresh(t, g.refreshToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 600);
    assert.match(res.body.refresh_token, /^gthr_/);
    assert.notEqual(res.body.refresh_token, g.refreshToken);
    const header = decodeProtectedHeader(res.body.access_token);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'at+jwt');
    assert.ok(header.kid);
    const claims = decodeJwt(res.body.access_token);
    assert.equal(claims.iss, t.config.publicUrl);
    assert.equal(claims.sub, owner.user.id);
    assert.equal(claims['gid'], g.id);
    assert.deepEqual(claims['projects'], {});
    assert.equal(claims.exp! - claims.iat!, 600);
    assert.ok(claims.jti);
    assert.equal(claims.aud, undefined);
    // The access token is a bearer credential on every route.
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${res.body.access_token}`);
    assert.equal(who.status, 200);
    assert.equal(who.body.id, owner.user.id);
    assert.deepEqual(who.body.credential, { kind: 'access_token', id: g.id });
    // DB: the old token consumed, one live successor, last use recorded.
    const tokens = await t.db.getRepository(RefreshToken).findBy({ grantId: g.id });
    assert.equal(tokens.length, 2);
    const old = tokens.find((x) => x.tokenHash === sha256Hex(g.refreshToken))!;
    assert.ok(old.consumedAt instanceof Date);
    assert.ok((await grantRow(t, g.id)).lastUsedAt instanceof Date);
    // JSON bodies work too.
    const json = await t.http
      .post('/api/v1/oauth/token')
      .send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token });
    assert.equal(json.status, 200);
  });

  it('revokes the whole family when a rotated refresh token is used again', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner);
    const first = await refresh(t, g.refreshToken);
    assert.equal(first.status, 200);
    const replay = await refresh(t, g.refreshToken);
    assert.equal(replay.status, 400);
    assert.deepEqual(Object.keys(replay.body).sort(), ['error', 'error_description']);
    assert.equal(replay.body.error, 'invalid_grant');
    const grant = await grantRow(t, g.id);
    assert.ok(grant.revokedAt instanceof Date);
    assert.equal(grant.revokedReason, 'refresh_token_reuse');
    // The legitimate successor and its access token die with the family.
    assert.equal((await refresh(t, first.body.refresh_token)).body.error, 'invalid_grant');
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${first.body.access_token}`);
    assert.equal(who.status, 401);
    const reuse = await auditOf(t, 'grant.refresh_reuse', owner.user.id);
    assert.equal(reuse.length, 1);
    assert.ok(!reuse[0]!.changes.includes(g.refreshToken.slice(5, 40)));
    const revoked = await auditOf(t, 'grant.revoke', owner.user.id);
    assert.equal(JSON.parse(revoked[0]!.changes).reason, 'refresh_token_reuse');
  });

  it('lets at most one of several concurrent uses of one refresh token win', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner);
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(t, g.refreshToken)));
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length <= 1, `${ok.length} concurrent uses succeeded`);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
    }
    const tokens = await t.db.getRepository(RefreshToken).findBy({ grantId: g.id });
    assert.equal(tokens.length, 1 + ok.length, 'one successor per winner, none for the losers');
    // The losers were reuses of a consumed token: the family is revoked.
    assert.ok((await grantRow(t, g.id)).revokedAt instanceof Date);
  });

  it('refuses a family past its absolute lifetime, and never mints tokens outliving it', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner);
    await t.db
      .getRepository(Grant)
      .update({ id: g.id }, { expiresAt: new Date(Date.now() + 60_000) });
    const res = await refresh(t, g.refreshToken);
    assert.equal(res.status, 200);
    assert.ok(res.body.expires_in <= 60);
    await t.db.getRepository(Grant).update({ id: g.id }, { expiresAt: new Date(Date.now() - 1) });
    const late = await refresh(t, res.body.refresh_token);
    assert.equal(late.status, 400);
    assert.equal(late.body.error, 'invalid_grant');
    const refused = await auditOf(t, 'grant.use_refused', owner.user.id);
    assert.equal(JSON.parse(refused[0]!.changes).reason, 'expired');
    // Not consumed: an expired family is not a reuse.
    assert.equal((await grantRow(t, g.id)).revokedAt, null);
  });

  it('binds a grant to its client id and sets it as the audience', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner, { type: 'service', forClientId: 'reports' });
    assert.equal((await refresh(t, g.refreshToken)).body.error, 'invalid_grant');
    assert.equal(
      (await refresh(t, g.refreshToken, { client_id: 'other' })).body.error,
      'invalid_grant',
    );
    const ok = await refresh(t, g.refreshToken, { client_id: 'reports' });
    assert.equal(ok.status, 200);
    assert.equal(decodeJwt(ok.body.access_token).aud, 'reports');
  });

  it('answers malformed requests in RFC 6749 form', async () => {
    const none = await t.http.post('/api/v1/oauth/token').type('form').send({});
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'invalid_request');
    const pw = await t.http
      .post('/api/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'password', username: 'a', password: 'b' });
    assert.equal(pw.body.error, 'unsupported_grant_type');
    const noToken = await t.http
      .post('/api/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'refresh_token' });
    assert.equal(noToken.body.error, 'invalid_request');
    const bad = await refresh(t, 'gthr_not-a-token');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');
    assert.equal(bad.headers['cache-control'], 'no-store');
  });

  it('stops a grant on revocation, a disabled owner, or logout with its access token', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner);
    const r = await refresh(t, g.refreshToken);
    const bearer = { Authorization: `Bearer ${r.body.access_token}` };
    await t.http.get('/api/v1/auth/whoami').set(bearer).expect(200);
    await t.http.delete(`/api/v1/users/me/grants/${g.id}`).set(owner.auth).expect(204);
    assert.equal((await grantRow(t, g.id)).revokedReason, 'revoked');
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(bearer)).status, 401);
    assert.equal((await refresh(t, r.body.refresh_token)).body.error, 'invalid_grant');
    assert.equal((await auditOf(t, 'grant.revoke', owner.user.id)).length, 1);

    const g2 = await makeGrant(t, owner);
    const r2 = await refresh(t, g2.refreshToken);
    const bearer2 = { Authorization: `Bearer ${r2.body.access_token}` };
    await t.http.get('/api/v1/auth/whoami').set(bearer2).expect(200);
    await t.http.post('/api/v1/auth/logout').set(bearer2).expect(204);
    assert.equal((await grantRow(t, g2.id)).revokedReason, 'logout');
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(bearer2)).status, 401);

    const g3 = await makeGrant(t, owner);
    const r3 = await refresh(t, g3.refreshToken);
    await t.db.getRepository(User).update({ id: owner.user.id }, { status: 'disabled' });
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${r3.body.access_token}`);
    assert.equal(who.status, 401);
    assert.equal((await refresh(t, r3.body.refresh_token)).body.error, 'invalid_grant');
    const refused = await auditOf(t, 'grant.use_refused', owner.user.id);
    assert.equal(JSON.parse(refused[refused.length - 1]!.changes).reason, 'owner_inactive');
  });

  it('refuses project permissions the owner does not hold (422) and unknown ones (400)', async () => {
    const owner = await makeUser(t);
    const res = await t.http
      .post('/api/v1/users/me/grants')
      .set(owner.auth)
      .send({
        type: 'service',
        projectPermissions: [
          { projectId: '0190aaaa-0000-7000-8000-000000000001', permissions: ['workspaces.create'] },
        ],
      });
    assert.equal(res.status, 422);
    assert.equal(res.body.rule, 'grant_exceeds_owner');
    const unknown = await t.http
      .post('/api/v1/users/me/grants')
      .set(owner.auth)
      .send({
        type: 'service',
        projectPermissions: [{ projectId: 'p1', permissions: ['made.up'] }],
      });
    assert.equal(unknown.status, 400);
    const badType = await t.http
      .post('/api/v1/users/me/grants')
      .set(owner.auth)
      .send({ type: 'robot', extra: 1 });
    assert.equal(badType.status, 400);
    const fields = badType.body.errors.map((e: { field: string }) => e.field);
    assert.ok(fields.includes('type') && fields.includes('extra'));
    assert.equal(await t.db.getRepository(Grant).countBy({ userId: owner.user.id }), 0);
  });

  it("lets only the owner or an admin reach a user's grants; 401 without a caller", async () => {
    const owner = await makeUser(t);
    const other = await makeUser(t);
    const admin = await makeUser(t, { role: 'admin' });
    const g = await makeGrant(t, owner);
    const base = `/api/v1/users/${owner.user.id}/grants`;
    assert.equal((await t.http.post(base).send({ type: 'user' })).status, 401);
    assert.equal((await t.http.get(base)).status, 401);
    assert.equal((await t.http.delete(`${base}/${g.id}`)).status, 401);
    assert.equal((await t.http.post(base).set(other.auth).send({ type: 'user' })).status, 403);
    assert.equal((await t.http.get(base).set(other.auth)).status, 403);
    assert.equal((await t.http.delete(`${base}/${g.id}`).set(other.auth)).status, 403);
    assert.equal(
      (await t.http.delete(`/api/v1/users/me/grants/${g.id}`).set(other.auth)).status,
      404,
    );
    assert.equal((await grantRow(t, g.id)).revokedAt, null);
    // A key cannot mint a grant.
    const k = await makeApiKey(t, owner);
    assert.equal((await t.http.post(base).set(k.auth).send({ type: 'user' })).status, 403);
    // An admin can.
    const made = await t.http.post(base).set(admin.auth).send({ type: 'user' });
    assert.equal(made.status, 201);
    assert.equal((await grantRow(t, made.body.id)).userId, owner.user.id);
    assert.equal((await t.http.get(base).set(admin.auth)).body.items.length, 2);
    await t.http.delete(`${base}/${g.id}`).set(admin.auth).expect(204);
    assert.ok((await grantRow(t, g.id)).revokedAt instanceof Date);
    assert.equal((await t.http.delete(`${base}/${g.id}`).set(admin.auth)).status, 404);
  });
});
