import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { OidcPayload } from '#src/provider/entities/oidc-payload.entity.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { CookieAgent } from '../support/oidc-agent.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const API = '/api/v1';
const REDIRECT = 'http://127.0.0.1:8123/cb';
const APP = 'https://app.example';
const EVIL = 'https://evil.example';

/**
 * CORS of the provider's endpoints (oidc-provider's clientBasedCORS): the token and userinfo
 * endpoints answer a browser only from an origin in the client's `allowedOrigins`; the JWKS and
 * discovery are public documents.
 */
describe('OpenID Provider CORS per client', () => {
  let t: TestApp;
  let origin: string;
  let admin: MadeUser;

  before(async () => {
    ({ t, origin } = await createListeningTestApp());
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  async function register(body: Record<string, unknown>) {
    const res = await t.http.post(`${API}/clients`).set(admin.auth).send(body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { clientId: string; clientSecret: string };
  }

  const tokensOf = (clientId: string) => t.db.getRepository(OidcPayload).countBy({ clientId });

  it('answers the token endpoint to an allowed origin only', async () => {
    const c = await register({
      name: 'Browser service',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_post',
      allowedOrigins: [APP],
    });
    const request = (from: string) =>
      fetch(`${origin}${API}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: from },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: c.clientId,
          client_secret: c.clientSecret,
        }),
      });
    const ok = await request(APP);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    assert.ok(((await ok.json()) as { access_token?: string }).access_token);
    assert.equal(await tokensOf(c.clientId), 1);

    const refused = await request(EVIL);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_request');
    assert.equal(await tokensOf(c.clientId), 1, 'no token issued to the other origin');

    // A client without allowedOrigins answers no browser at all.
    const closed = await register({
      name: 'Server only',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    const none = await fetch(`${origin}${API}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: closed.clientId,
        client_secret: closed.clientSecret,
      }),
    });
    assert.equal(none.status, 400);
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    assert.equal(await tokensOf(closed.clientId), 0);
  });

  it('answers userinfo to the token’s client’s allowed origin only', async () => {
    const c = await register({
      name: 'SPA',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      tokenEndpointAuthMethod: 'none',
      allowedOrigins: [APP],
      firstParty: true,
    });
    const user = await makeUser(t);
    const config = await client.discovery(new URL(origin), c.clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const agent = new CookieAgent(origin);
    agent.setCookie('gh_session', user.token);
    const back = await agent.authorize(config, REDIRECT);
    const tokens = await client.authorizationCodeGrant(config, back.url, {
      pkceCodeVerifier: back.verifier,
      expectedState: back.state,
    });
    const userinfo = (from: string) =>
      fetch(`${origin}/oidc/me`, {
        headers: { authorization: `Bearer ${tokens.access_token}`, origin: from },
      });
    const ok = await userinfo(APP);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    assert.equal(((await ok.json()) as { sub: string }).sub, user.user.id);
    const refused = await userinfo(EVIL);
    assert.notEqual(refused.status, 200);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  it('serves the JWKS and discovery to any origin (public documents)', async () => {
    for (const path of ['/.well-known/jwks.json', '/.well-known/openid-configuration']) {
      const res = await fetch(`${origin}${path}`, { headers: { origin: EVIL } });
      assert.equal(res.status, 200, path);
      assert.ok(
        ['*', EVIL].includes(String(res.headers.get('access-control-allow-origin'))),
        `${path}: ${res.headers.get('access-control-allow-origin')}`,
      );
      await res.arrayBuffer();
    }
  });
});
