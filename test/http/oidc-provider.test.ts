import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { OAuthClient } from '#src/provider/entities/oauth-client.entity.js';
import { OidcPayload } from '#src/provider/entities/oidc-payload.entity.js';
import { User } from '#src/users/user.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { CookieAgent } from '../support/oidc-agent.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const API = '/api/v1';
const REDIRECT = 'http://127.0.0.1:8123/cb';

interface Created {
  clientId: string;
  clientSecret?: string;
  serviceUserId?: string | null;
}

/**
 * Gatehouse as an OpenID Provider, driven by standard clients (openid-client 6, oauth4webapi 3) over
 * loopback: discovery, authorization code with PKCE through Gatehouse's sign-in, ID token, userinfo,
 * refresh rotation and reuse, client_credentials as a service account, introspection, revocation.
 */
describe('Gatehouse as an OpenID Provider', () => {
  let t: TestApp;
  let origin: string;
  let admin: MadeUser;

  before(async () => {
    ({ t, origin } = await createListeningTestApp({ ACCESS_TOKEN_MINUTES: '5' }));
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  async function register(body: Record<string, unknown>): Promise<Created> {
    const res = await t.http.post(`${API}/clients`).set(admin.auth).send(body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as Created;
  }

  async function discover(c: Created, auth: client.ClientAuth): Promise<client.Configuration> {
    return client.discovery(new URL(origin), c.clientId, undefined, auth, {
      execute: [client.allowInsecureRequests],
    });
  }

  /** Runs the authorization code flow as `user` (signed in at Gatehouse by cookie). */
  async function authorize(
    config: client.Configuration,
    user: MadeUser | null,
    params: Record<string, string> = {},
    verifier = client.randomPKCECodeVerifier(),
  ) {
    const agent = new CookieAgent(origin);
    if (user) agent.setCookie('gh_session', user.token);
    const nonce = client.randomNonce();
    const out = await agent.authorize(
      config,
      REDIRECT,
      { scope: 'openid email profile offline_access', nonce, prompt: 'consent', ...params },
      verifier,
    );
    return { ...out, agent, nonce };
  }

  it('publishes OpenID discovery and RFC 8414 metadata for the same issuer and keys', async () => {
    const oidc = (await (
      await fetch(`${origin}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    assert.equal(oidc['issuer'], origin);
    assert.equal(oidc['token_endpoint'], `${origin}/api/v1/oauth/token`);
    assert.equal(oidc['jwks_uri'], `${origin}/.well-known/jwks.json`);
    assert.deepEqual(oidc['response_types_supported'], ['code']);
    assert.deepEqual(oidc['code_challenge_methods_supported'], ['S256']);
    assert.equal(oidc['authorization_response_iss_parameter_supported'], true);
    assert.ok((oidc['grant_types_supported'] as string[]).includes('client_credentials'));
    assert.ok(oidc['introspection_endpoint'] && oidc['revocation_endpoint']);
    assert.ok(oidc['end_session_endpoint'] && oidc['userinfo_endpoint']);
    const rfc8414 = (await (
      await fetch(`${origin}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.deepEqual(rfc8414, oidc);
    const jwks = (await (await fetch(`${origin}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.d, undefined);
  });

  it('runs authorization code + PKCE through the Gatehouse session, with ID token, userinfo and refresh', async () => {
    const c = await register({
      name: 'Reports',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'email', 'profile', 'offline_access', 'gatehouse:projects'],
      firstParty: true,
    });
    assert.ok(c.clientSecret?.startsWith('ghcs_'));
    const stored = await t.db
      .getRepository(OAuthClient)
      .createQueryBuilder('c')
      .addSelect('c.secretHash')
      .where('c.clientId = :id', { id: c.clientId })
      .getOneOrFail();
    assert.notEqual(stored.secretHash, c.clientSecret);
    assert.equal(stored.secretHash?.length, 64);

    const user = await makeUser(t, { fullName: 'Ada Person' });
    const config = await discover(c, client.ClientSecretBasic(c.clientSecret));
    const { url, state, nonce, verifier } = await authorize(config, user, {
      scope: 'openid email profile offline_access gatehouse:projects',
      resource: origin,
    });
    assert.ok(url.href.startsWith(REDIRECT), url.href);
    assert.equal(url.searchParams.get('iss'), origin);

    const tokens = await client.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.user.id);
    assert.equal(claims.iss, origin);
    assert.equal(claims.aud, c.clientId);
    assert.ok(tokens.refresh_token);

    const info = await client.fetchUserInfo(config, tokens.access_token, user.user.id);
    assert.equal(info.email, user.email);
    assert.equal(info.name, 'Ada Person');

    // Refresh for the Gatehouse API (RFC 8707 resource): an RFC 9068 JWT the API accepts.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, {
      resource: origin,
      scope: 'openid gatehouse:projects',
    });
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);
    const as = config.serverMetadata() as oauth.AuthorizationServer;
    const at = await oauth.validateJwtAccessToken(
      as,
      new Request(`${origin}${API}/users/me`, {
        headers: { authorization: `Bearer ${refreshed.access_token}` },
      }),
      origin,
      { [oauth.allowInsecureRequests]: true },
    );
    assert.equal(at.sub, user.user.id);
    assert.equal(at.client_id, c.clientId);
    assert.equal(at.aud, origin);
    assert.ok(typeof at.jti === 'string' && at.scope?.includes('gatehouse:projects'));
    assert.deepEqual(at['projects'], {});
    const me = await t.http.get(`${API}/users/me`).set({
      Authorization: `Bearer ${refreshed.access_token}`,
    });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, user.user.id);

    // Reuse of the rotated refresh token revokes the family: the newer one stops too.
    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant',
    );
    await assert.rejects(
      client.refreshTokenGrant(config, refreshed.refresh_token),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant',
    );
    const apiAfter = await t.http.get(`${API}/users/me`).set({
      Authorization: `Bearer ${refreshed.access_token}`,
    });
    assert.equal(apiAfter.status, 401);
    assert.match(String(apiAfter.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
  });

  it('sends a person without a session to the sign-in page and back', async () => {
    const c = await register({
      name: 'Public SPA',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      firstParty: true,
    });
    assert.equal(c.clientSecret, undefined);
    const user = await makeUser(t);
    const config = await discover(c, client.None());
    const first = await authorize(config, null, { scope: 'openid' });
    assert.equal(first.res.status, 200);
    assert.match(first.url.pathname, /^\/signin$/);
    const returnTo = first.url.searchParams.get('returnTo')!;
    assert.match(returnTo, /^\/oidc\/interaction\//);
    const done = await first.agent.submit(
      '/signin',
      { username: user.email, password: user.password, returnTo },
      REDIRECT,
    );
    assert.ok(done.url.href.startsWith(REDIRECT), done.url.href);
    const tokens = await client.authorizationCodeGrant(config, done.url, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
    });
    assert.equal(tokens.claims()!.sub, user.user.id);
    assert.equal(tokens.refresh_token, undefined, 'no refresh_token grant for this client');
  });

  it('an enrolment-only session (a second factor required, none enrolled) signs in to no application', async () => {
    const c = await register({
      name: 'Enrolment check',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      firstParty: true,
    });
    const user = await makeUser(t);
    await t.db.getRepository(Session).update({ userId: user.user.id }, { mfaEnrolment: true });
    const config = await discover(c, client.None());
    const out = await authorize(config, user, { scope: 'openid' });
    assert.equal(out.res.status, 403);
    assert.ok(!out.url.href.startsWith(REDIRECT), out.url.href);
    assert.match(await out.res.text(), /needs a second sign-in factor first/);
    assert.equal(
      await t.db
        .getRepository(OidcPayload)
        .countBy({ model: 'AuthorizationCode', clientId: c.clientId }),
      0,
    );
  });

  it('refuses a wrong PKCE verifier, an unregistered redirect URI and a wrong client secret (RFC 6749)', async () => {
    const c = await register({
      name: 'Strict',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'client_secret_post',
      firstParty: true,
    });
    const user = await makeUser(t);
    const config = await discover(c, client.ClientSecretPost(c.clientSecret));
    const { url, state, nonce } = await authorize(config, user, { scope: 'openid' });
    await assert.rejects(
      client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: state,
        expectedNonce: nonce,
      }),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant',
    );

    // Unregistered redirect URI: an error page, never a redirect there.
    const agent = new CookieAgent(origin);
    agent.setCookie('gh_session', user.token);
    const bad = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://evil.example/cb',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const res = await agent.request(bad.href);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /redirect_uri/);

    const wrong = await fetch(`${origin}${API}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: REDIRECT,
        client_id: c.clientId,
        client_secret: 'ghcs_wrong',
      }),
    });
    assert.equal(wrong.status, 401);
    const body = (await wrong.json()) as Record<string, unknown>;
    assert.equal(body['error'], 'invalid_client');
    assert.match(String(wrong.headers.get('content-type')), /^application\/json/);
  });

  it('gives a client_credentials client a service account whose token the API accepts, introspects and revokes', async () => {
    const c = await register({
      name: 'Nightly job',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['gatehouse:projects'],
    });
    assert.equal(c.serviceUserId, c.clientId);
    const service = await t.db.getRepository(User).findOneByOrFail({ id: c.clientId });
    assert.equal(service.kind, 'service');
    assert.equal(service.status, 'active');

    const config = await discover(c, client.ClientSecretBasic(c.clientSecret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'gatehouse:projects' });
    const as = config.serverMetadata() as oauth.AuthorizationServer;
    const at = await oauth.validateJwtAccessToken(
      as,
      new Request(`${origin}${API}/users/me`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      }),
      origin,
      { [oauth.allowInsecureRequests]: true },
    );
    assert.equal(at.sub, c.clientId);
    assert.equal(at.client_id, c.clientId);
    const auth = { Authorization: `Bearer ${tokens.access_token}` };
    const me = await t.http.get(`${API}/users/me`).set(auth);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.id, c.clientId);

    const active = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, c.clientId);
    assert.equal(active.sub, c.clientId);

    await client.tokenRevocation(config, tokens.access_token);
    const inactive = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(inactive.active, false);
    const refused = await t.http.get(`${API}/users/me`).set(auth);
    assert.equal(refused.status, 401);
    assert.match(String(refused.headers['www-authenticate']), /^Bearer /);
    assert.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8');
  });

  it('refuses a replayed authorization code and revokes what the first use issued', async () => {
    const c = await register({
      name: 'Replayed',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'email'],
      firstParty: true,
    });
    const user = await makeUser(t);
    const config = await discover(c, client.ClientSecretBasic(c.clientSecret));
    const { url, state, nonce, verifier } = await authorize(config, user, {
      scope: 'openid email',
    });
    const opts = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce };
    const first = await client.authorizationCodeGrant(config, url, opts);
    const info = await client.fetchUserInfo(config, first.access_token, user.user.id);
    assert.equal(info.email, user.email);
    await assert.rejects(
      client.authorizationCodeGrant(config, url, opts),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant',
    );
    await assert.rejects(
      client.fetchUserInfo(config, first.access_token, user.user.id),
      (e: unknown) =>
        e instanceof client.WWWAuthenticateChallengeError &&
        e.cause[0]?.parameters.error === 'invalid_token',
    );
    const left = await t.db
      .getRepository(OidcPayload)
      .countBy({ model: 'AccessToken', clientId: c.clientId });
    assert.equal(left, 0);
  });

  it('authenticates a private_key_jwt client with its registered key and refuses another key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const c = await register({
      name: 'Key holder',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [jwk] },
    });
    assert.equal(c.clientSecret, undefined);
    const config = await discover(c, client.PrivateKeyJwt({ key: privateKey, kid: 'k1' }));
    const tokens = await client.clientCredentialsGrant(config);
    const me = await t.http
      .get(`${API}/users/me`)
      .set({ Authorization: `Bearer ${tokens.access_token}` });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, c.clientId);

    const other = await generateKeyPair('ES256', { extractable: true });
    const wrong = await discover(c, client.PrivateKeyJwt({ key: other.privateKey, kid: 'k1' }));
    await assert.rejects(
      client.clientCredentialsGrant(wrong),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_client',
    );
  });

  it('answers introspection by a public client with 401 invalid_client', async () => {
    const c = await register({
      name: 'Public',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
    });
    const res = await fetch(`${origin}/oidc/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'anything', client_id: c.clientId }),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  it('deleting a client stops its tokens and disables its service account', async () => {
    const c = await register({
      name: 'Short-lived',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    const config = await discover(c, client.ClientSecretPost(c.clientSecret));
    const tokens = await client.clientCredentialsGrant(config);
    const auth = { Authorization: `Bearer ${tokens.access_token}` };
    assert.equal((await t.http.get(`${API}/users/me`).set(auth)).status, 200);

    const del = await t.http.delete(`${API}/clients/${c.clientId}`).set(admin.auth);
    assert.equal(del.status, 204);
    assert.equal((await t.http.get(`${API}/users/me`).set(auth)).status, 401);
    const service = await t.db.getRepository(User).findOneByOrFail({ id: c.clientId });
    assert.equal(service.status, 'disabled');
    assert.equal(await t.db.getRepository(OAuthClient).countBy({ clientId: c.clientId }), 0);
    assert.equal(await t.db.getRepository(OidcPayload).countBy({ clientId: c.clientId }), 0);
    await assert.rejects(
      client.clientCredentialsGrant(config),
      (e: unknown) => e instanceof client.ResponseBodyError && e.error === 'invalid_client',
    );
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ targetId: c.clientId, action: 'client.delete' });
    assert.equal(audit.length, 1);
  });
});
