import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { AccessTokenRevocation } from '#src/credentials/entities/access-token-revocation.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { FakeIdp } from '../support/fake-idp.js';
import { auditOf } from '../factories/credentials.js';
import { linkIdentity } from '../factories/identities.js';
import { makeUser } from '../factories/users.js';

const CLIENT_ID = 'gatehouse-exchange';

describe('POST /auth/token-exchange', () => {
  const idp = new FakeIdp();
  let t: TestApp;
  before(async () => {
    await idp.start();
    t = await createTestApp({
      OIDC_PROVIDERS: JSON.stringify([
        {
          id: 'corp',
          name: 'Corp IdP',
          issuer: idp.issuer,
          clientId: CLIENT_ID,
          clientSecret: 's3cret-value',
        },
      ]),
      OIDC_TIMEOUT_MS: '1000',
    });
  });
  after(async () => {
    await t.close();
    await idp.stop();
  });

  const exchange = (subjectToken: string, provider = 'corp') =>
    t.http.post('/api/v1/auth/token-exchange').send({ subjectToken, provider });

  async function linkedUser() {
    const u = await makeUser(t);
    const subject = `sub-${randomBytes(4).toString('hex')}`;
    const identity = await linkIdentity(t, u.user.id, 'corp', idp.issuer, subject);
    return { ...u, subject, identity };
  }

  it('returns a Gatehouse access token for the linked user of a valid ID token', async () => {
    const u = await linkedUser();
    const res = await exchange(await idp.sign(CLIENT_ID, { sub: u.subject }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, t.config.accessTokenMinutes * 60);
    const claims = decodeJwt(res.body.access_token);
    assert.equal(claims.sub, u.user.id);
    assert.equal(claims.iss, t.config.publicUrl);
    assert.equal(claims['idp'], 'corp');
    assert.equal(claims['gid'], undefined);
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${res.body.access_token}`);
    assert.equal(who.status, 200);
    assert.equal(who.body.id, u.user.id);
    assert.equal(who.body.credential.kind, 'access_token');
    const row = await t.db.getRepository(UserIdentity).findOneByOrFail({ id: u.identity.id });
    assert.ok(row.lastUsedAt instanceof Date);
    const audit = await auditOf(t, 'access_token.exchange', u.user.id);
    assert.equal(audit.length, 1);
    assert.equal(JSON.parse(audit[0]!.changes).provider, 'corp');

    // Logout with the exchanged token denylists it until it would have expired.
    await t.http
      .post('/api/v1/auth/logout')
      .set('Authorization', `Bearer ${res.body.access_token}`)
      .expect(204);
    assert.equal(await t.db.getRepository(AccessTokenRevocation).countBy({ jti: claims.jti! }), 1);
    const again = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${res.body.access_token}`);
    assert.equal(again.status, 401);
  });

  it('refuses a wrong audience, an expired token and alg none with 401', async () => {
    const u = await linkedUser();
    const wrongAud = await exchange(await idp.sign('someone-else', { sub: u.subject }));
    assert.equal(wrongAud.status, 401);
    assert.match(wrongAud.body.detail, /not issued for Gatehouse/);
    const now = Math.floor(Date.now() / 1000);
    const expired = await exchange(
      await idp.sign(
        CLIENT_ID,
        { sub: u.subject },
        { issuedAt: now - 7200, expiresIn: now - 3600 },
      ),
    );
    assert.equal(expired.status, 401);
    assert.match(expired.body.detail, /expired/);
    const none = await exchange(idp.unsigned(CLIENT_ID, { sub: u.subject }));
    assert.equal(none.status, 401);
    const garbage = await exchange('not.a.jwt');
    assert.equal(garbage.status, 401);
    assert.equal((await auditOf(t, 'access_token.exchange', u.user.id)).length, 0);
  });

  it('refuses an unknown provider (400) and an identity linked to nobody (401), never linking', async () => {
    const unknown = await exchange(await idp.sign(CLIENT_ID, { sub: 'x' }), 'nope');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].field, 'provider');
    const subject = `unlinked-${randomBytes(4).toString('hex')}`;
    const res = await exchange(
      await idp.sign(CLIENT_ID, { sub: subject, email: 'x@example.test', email_verified: true }),
    );
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /No Gatehouse user is linked/);
    assert.equal(await t.db.getRepository(UserIdentity).countBy({ subject }), 0);
  });

  it('refuses a linked user who is not active', async () => {
    const u = await linkedUser();
    await t.db.getRepository(User).update({ id: u.user.id }, { status: 'disabled' });
    const res = await exchange(await idp.sign(CLIENT_ID, { sub: u.subject }));
    assert.equal(res.status, 401);
    const refused = await auditOf(t, 'token_exchange.refused', u.user.id);
    assert.equal(JSON.parse(refused[0]!.changes).reason, 'owner_disabled');
  });

  it('validates the body', async () => {
    const res = await t.http
      .post('/api/v1/auth/token-exchange')
      .send({ provider: 'corp', extra: 1 });
    assert.equal(res.status, 400);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    assert.ok(fields.includes('subjectToken') && fields.includes('extra'));
  });
});

describe('per-IP limit on the token routes', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ RATE_LIMIT_SIGNIN: '2' });
  });
  after(async () => t.close());

  it('answers 429 with Retry-After past RATE_LIMIT_SIGNIN', async () => {
    for (const path of ['/api/v1/oauth/token', '/api/v1/auth/token-exchange']) {
      const statuses: number[] = [];
      let retryAfter: string | undefined;
      for (let i = 0; i < 3; i++) {
        const res = await t.http
          .post(path)
          .send({ grant_type: 'refresh_token', refresh_token: 'gthr_x' });
        statuses.push(res.status);
        retryAfter ??= res.headers['retry-after'];
      }
      assert.equal(statuses[2], 429, `${path}: ${statuses.join(',')}`);
      assert.ok(retryAfter);
    }
  });
});
