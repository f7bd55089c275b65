import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { OidcPayload } from '#src/provider/entities/oidc-payload.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { FakeIdp } from '../support/fake-idp.js';
import { freePort } from '../support/listen.js';
import { CookieAgent } from '../support/oidc-agent.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { auditOf } from '../factories/credentials.js';
import { linkIdentity } from '../factories/identities.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const API = '/api/v1';
const REDIRECT = 'http://127.0.0.1:8123/cb';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

interface Created {
  clientId: string;
  clientSecret: string;
}

/**
 * RFC 8693 token exchange at the token endpoint (oidc-provider's registerGrantType): a trusted
 * upstream provider's ID token (a real oidc-provider in-process) or one of Gatehouse's own tokens
 * becomes an RFC 9068 access token for the linked user, for clients allowed to exchange.
 */
describe('token exchange at the token endpoint (RFC 8693)', () => {
  const corp = new TestOidcProvider(); // trusted, linked identities
  const misconfigured = new TestOidcProvider(); // configured under another client id: wrong audience
  const stranger = new TestOidcProvider(); // not configured: unknown issuer
  const fake = new FakeIdp(); // configured; signs expired tokens on demand
  let t: TestApp;
  let origin: string;
  let admin: MadeUser;
  let upstreamCallback: string;

  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    upstreamCallback = `${origin}/api/v1/auth/oidc/corp/callback`;
    await corp.start([upstreamCallback]);
    await misconfigured.start([upstreamCallback]);
    await stranger.start([upstreamCallback]);
    await fake.start();
    t = await createTestApp({
      PUBLIC_URL: origin,
      ACCESS_TOKEN_MINUTES: '5',
      OIDC_TIMEOUT_MS: '2000',
      OIDC_PROVIDERS: JSON.stringify([
        corp.providerConfig('corp', { name: 'Corp' }),
        { ...misconfigured.providerConfig('other'), clientId: 'not-gatehouse-test' },
        {
          id: 'fake',
          name: 'Fake',
          issuer: fake.issuer,
          clientId: 'gatehouse-fake',
          clientSecret: 'fake-secret-value',
        },
      ]),
    });
    await t.app.listen(port, '127.0.0.1');
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => {
    await t.close();
    await corp.stop();
    await misconfigured.stop();
    await stranger.stop();
    await fake.stop();
  });

  async function register(body: Record<string, unknown>): Promise<Created> {
    const res = await t.http.post(`${API}/clients`).set(admin.auth).send(body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as Created;
  }

  const exchanger = (name = 'Exchanger') =>
    register({
      name,
      grantTypes: [EXCHANGE],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'gatehouse:projects'],
    });

  /** A raw token request (form-encoded, client_secret_basic): status, headers and JSON body. */
  async function tokenRequest(c: Created, params: Record<string, string>) {
    const res = await fetch(`${origin}${API}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: EXCHANGE, ...params }),
    });
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  async function linkedUser(login: string) {
    const u = await makeUser(t);
    const identity = await linkIdentity(t, u.user.id, 'corp', corp.issuer, login);
    return { ...u, identity };
  }

  let seq = 0;
  const login = () => `person-${++seq}-${Date.now().toString(36)}`;

  it('exchanges a trusted provider’s ID token for an RFC 9068 access token the API accepts', async () => {
    const c = await exchanger();
    const name = login();
    const u = await linkedUser(name);
    const idToken = await corp.idToken(name, upstreamCallback);

    const config = await client.discovery(
      new URL(origin),
      c.clientId,
      undefined,
      client.ClientSecretBasic(c.clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
    const tokens = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
      scope: 'gatehouse:projects',
    });
    assert.equal(tokens['issued_token_type'], ACCESS_TOKEN);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 300);
    assert.equal(tokens.scope, 'gatehouse:projects');
    assert.equal(tokens.refresh_token, undefined);

    const as = config.serverMetadata() as oauth.AuthorizationServer;
    const at = await oauth.validateJwtAccessToken(
      as,
      new Request(`${origin}${API}/users/me`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      }),
      origin,
      { [oauth.allowInsecureRequests]: true },
    );
    assert.equal(at.sub, u.user.id);
    assert.equal(at.client_id, c.clientId);
    assert.equal(at.aud, origin);
    assert.deepEqual(at['projects'], {});

    const me = await t.http
      .get(`${API}/users/me`)
      .set({ Authorization: `Bearer ${tokens.access_token}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, u.user.id);

    // Stored by jti (introspection, revocation), audited under the user, the link's use recorded.
    const stored = await t.db.getRepository(OidcPayload).findOneBy({ id: at.jti });
    assert.equal(stored?.clientId, c.clientId);
    assert.equal(stored?.accountId, u.user.id);
    const audit = await auditOf(t, 'access_token.exchange', u.user.id);
    assert.equal(audit.length, 1);
    assert.deepEqual(JSON.parse(audit[0]!.changes), {
      provider: 'corp',
      identityId: u.identity.id,
      jti: at.jti,
      clientId: c.clientId,
    });
    const link = await t.db.getRepository(UserIdentity).findOneByOrFail({ id: u.identity.id });
    assert.ok(link.lastUsedAt instanceof Date);

    // Introspection by the client and revocation: the API refuses the token afterwards.
    const active = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, u.user.id);
    await client.tokenRevocation(config, tokens.access_token);
    const refused = await t.http
      .get(`${API}/users/me`)
      .set({ Authorization: `Bearer ${tokens.access_token}` });
    assert.equal(refused.status, 401);
    assert.match(String(refused.headers['www-authenticate']), /^Bearer /);
  });

  it('exchanges Gatehouse’s own tokens: an access token, and an ID token issued to the client', async () => {
    const c = await register({
      name: 'Web app that exchanges',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', EXCHANGE],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'gatehouse:projects'],
      firstParty: true,
    });
    const other = await exchanger('Other exchanger');
    const user = await makeUser(t);
    const config = await client.discovery(
      new URL(origin),
      c.clientId,
      undefined,
      client.ClientSecretBasic(c.clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
    const agent = new CookieAgent(origin);
    agent.setCookie('gh_session', user.token);
    const back = await agent.authorize(config, REDIRECT);
    const code = await client.authorizationCodeGrant(config, back.url, {
      pkceCodeVerifier: back.verifier,
      expectedState: back.state,
    });
    const idToken = code.id_token!;

    const fromId = await tokenRequest(c, { subject_token: idToken, subject_token_type: ID_TOKEN });
    assert.equal(fromId.res.status, 200, JSON.stringify(fromId.body));
    assert.equal(fromId.res.headers.get('cache-control'), 'no-store');
    const accessToken = String(fromId.body['access_token']);
    const me = await t.http.get(`${API}/users/me`).set({ Authorization: `Bearer ${accessToken}` });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, user.user.id);

    // An ID token issued to another client is not this client's to exchange.
    const notOurs = await tokenRequest(other, {
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
    });
    assert.equal(notOurs.res.status, 400);
    assert.equal(notOurs.body['error'], 'invalid_grant');

    // Our access token (any client may present one the API accepts).
    const fromAt = await tokenRequest(other, {
      subject_token: accessToken,
      subject_token_type: ACCESS_TOKEN,
    });
    assert.equal(fromAt.res.status, 200, JSON.stringify(fromAt.body));
    const again = await t.http
      .get(`${API}/users/me`)
      .set({ Authorization: `Bearer ${String(fromAt.body['access_token'])}` });
    assert.equal(again.body.id, user.user.id);
    const audit = await auditOf(t, 'access_token.exchange', user.user.id);
    assert.deepEqual(
      audit.map((a) => JSON.parse(a.changes).clientId).sort(),
      [c.clientId, other.clientId].sort(),
    );
    assert.ok(audit.every((a) => JSON.parse(a.changes).provider === 'gatehouse'));
  });

  it('answers unauthorized_client to a client whose registration does not allow exchange', async () => {
    const c = await register({
      name: 'Only client credentials',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    const name = login();
    const u = await linkedUser(name);
    const { res, body } = await tokenRequest(c, {
      subject_token: await corp.idToken(name, upstreamCallback),
      subject_token_type: ID_TOKEN,
    });
    assert.equal(res.status, 400);
    assert.equal(body['error'], 'unauthorized_client');
    assert.match(String(res.headers.get('content-type')), /^application\/json/);
    assert.equal((await auditOf(t, 'access_token.exchange', u.user.id)).length, 0);

    // A wrong secret is a client authentication failure first.
    const wrong = await tokenRequest(
      { clientId: c.clientId, clientSecret: 'ghcs_wrong' },
      { subject_token: 'x', subject_token_type: ID_TOKEN },
    );
    assert.equal(wrong.res.status, 401);
    assert.equal(wrong.body['error'], 'invalid_client');
  });

  it('answers invalid_grant for a wrong audience, an expired token, an unknown issuer and an unlinked identity', async () => {
    const c = await exchanger('Strict exchanger');
    const name = login();
    const u = await linkedUser(name);
    // Same subject at the misconfigured provider and at the stranger, linked there too, so only
    // the token's audience or issuer is wrong.
    await linkIdentity(t, u.user.id, 'other', misconfigured.issuer, name);
    const now = Math.floor(Date.now() / 1000);
    await linkIdentity(t, u.user.id, 'fake', fake.issuer, name);
    const cases: [string, string, RegExp][] = [
      ['wrong audience', await misconfigured.idToken(name, upstreamCallback), /not issued for/],
      [
        'expired',
        await fake.sign(
          'gatehouse-fake',
          { sub: name },
          { issuedAt: now - 7200, expiresIn: now - 3600 },
        ),
        /expired/,
      ],
      ['unknown issuer', await stranger.idToken(name, upstreamCallback), /trusted provider/],
      ['unlinked', await corp.idToken(`${name}-unlinked`, upstreamCallback), /No Gatehouse user/],
      ['not a JWT', 'not-a-jwt', /not a JWT/],
    ];
    for (const [label, token, description] of cases) {
      const { res, body } = await tokenRequest(c, {
        subject_token: token,
        subject_token_type: ID_TOKEN,
      });
      assert.equal(res.status, 400, label);
      assert.equal(body['error'], 'invalid_grant', label);
      assert.match(String(body['error_description']), description, label);
    }
    assert.equal((await auditOf(t, 'access_token.exchange', u.user.id)).length, 0);
    assert.equal(
      await t.db.getRepository(UserIdentity).countBy({ subject: `${name}-unlinked` }),
      0,
      'never links',
    );
  });

  it('answers invalid_request naming the parameter, and invalid_target for another audience', async () => {
    const c = await exchanger('Picky exchanger');
    const missing = await tokenRequest(c, { subject_token_type: ID_TOKEN });
    assert.equal(missing.res.status, 400);
    assert.equal(missing.body['error'], 'invalid_request');
    assert.match(String(missing.body['error_description']), /'subject_token'/);
    const badType = await tokenRequest(c, {
      subject_token: 'x',
      subject_token_type: 'urn:ietf:params:oauth:token-type:saml2',
    });
    assert.equal(badType.body['error'], 'invalid_request');
    assert.match(String(badType.body['error_description']), /'subject_token_type'/);
    const badRequested = await tokenRequest(c, {
      subject_token: 'x',
      subject_token_type: ID_TOKEN,
      requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
    });
    assert.equal(badRequested.body['error'], 'invalid_request');
    assert.match(String(badRequested.body['error_description']), /'requested_token_type'/);
    const elsewhere = await tokenRequest(c, {
      subject_token: 'x',
      subject_token_type: ID_TOKEN,
      audience: 'https://elsewhere.example',
    });
    assert.equal(elsewhere.res.status, 400);
    assert.equal(elsewhere.body['error'], 'invalid_target');
    const scope = await tokenRequest(c, {
      subject_token: 'x',
      subject_token_type: ID_TOKEN,
      scope: 'offline_access',
    });
    assert.equal(scope.body['error'], 'invalid_scope');
  });

  it('refuses token exchange on a public client registration (400 naming grantTypes)', async () => {
    const res = await t.http
      .post(`${API}/clients`)
      .set(admin.auth)
      .send({
        name: 'Public exchanger',
        redirectUris: [REDIRECT],
        grantTypes: ['authorization_code', EXCHANGE],
        tokenEndpointAuthMethod: 'none',
      });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'grantTypes');
  });
});
