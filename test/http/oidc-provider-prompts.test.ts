import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { Session } from '#src/auth/entities/session.entity.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { CookieAgent } from '../support/oidc-agent.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const API = '/api/v1';
const REDIRECT = 'http://127.0.0.1:8123/cb';

/**
 * prompt=login, max_age and prompt=none through Gatehouse's own sign-in page (OpenID Connect Core
 * 3.1.2.1), with openid-client 6: a session that is not recent enough signs in again, and
 * auth_time is when the person signed in to Gatehouse.
 */
describe('OpenID Provider prompt=login, max_age and prompt=none', () => {
  let t: TestApp;
  let origin: string;
  let admin: MadeUser;
  let config: client.Configuration;

  before(async () => {
    ({ t, origin } = await createListeningTestApp());
    admin = await makeUser(t, { role: 'admin' });
    const res = await t.http
      .post(`${API}/clients`)
      .set(admin.auth)
      .send({
        name: 'Prompted',
        redirectUris: [REDIRECT],
        grantTypes: ['authorization_code'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        firstParty: true,
      });
    assert.equal(res.status, 201);
    config = await client.discovery(
      new URL(origin),
      res.body.clientId,
      undefined,
      client.ClientSecretBasic(res.body.clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
  });
  after(async () => t.close());

  async function start(agent: CookieAgent, params: Record<string, string>) {
    return agent.authorize(config, REDIRECT, params);
  }

  async function idTokenClaims(url: URL, verifier: string, state: string, maxAge?: number) {
    const tokens = await client.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      ...(maxAge !== undefined ? { maxAge } : {}),
    });
    return tokens.claims()!;
  }

  const sessionsOf = (userId: string) => t.db.getRepository(Session).countBy({ userId });

  /** Makes the user's session look signed in `seconds` ago. */
  async function ageSession(userId: string, seconds: number): Promise<number> {
    const at = new Date(Math.floor(Date.now() / 1000 - seconds) * 1000);
    await t.db.getRepository(Session).update({ userId }, { authTime: at });
    return Math.floor(at.getTime() / 1000);
  }

  it('prompt=login sends a signed-in person through the sign-in page again', async () => {
    const user = await makeUser(t);
    const signedInAt = await ageSession(user.user.id, 600);
    const agent = new CookieAgent(origin);
    agent.setCookie('gh_session', user.token);

    // Without prompt=login the session is enough, and auth_time is its sign-in time.
    const quiet = await start(agent, {});
    assert.ok(quiet.url.href.startsWith(REDIRECT), quiet.url.href);
    const before = await idTokenClaims(quiet.url, quiet.verifier, quiet.state);
    assert.equal(before.auth_time, signedInAt);

    const startedAt = Math.floor(Date.now() / 1000);
    const first = await start(agent, { prompt: 'login' });
    assert.equal(first.url.pathname, '/signin');
    const returnTo = first.url.searchParams.get('returnTo')!;
    assert.match(returnTo, /^\/oidc\/interaction\//);
    assert.equal(await sessionsOf(user.user.id), 1);
    const done = await agent.submit(
      '/signin',
      { username: user.email, password: user.password, returnTo },
      REDIRECT,
    );
    assert.ok(done.url.href.startsWith(REDIRECT), done.url.href);
    const claims = await idTokenClaims(done.url, first.verifier, first.state);
    assert.equal(claims.sub, user.user.id);
    assert.ok(Number(claims.auth_time) >= startedAt, `auth_time ${claims.auth_time}`);
    assert.equal(await sessionsOf(user.user.id), 2, 'a new Gatehouse session');
  });

  it('max_age: a session older than max_age signs in again; a recent enough one does not', async () => {
    const user = await makeUser(t);
    const signedInAt = await ageSession(user.user.id, 3600);
    const agent = new CookieAgent(origin);
    agent.setCookie('gh_session', user.token);

    const lenient = await start(agent, { max_age: '7200' });
    assert.ok(lenient.url.href.startsWith(REDIRECT), lenient.url.href);
    const old = await idTokenClaims(lenient.url, lenient.verifier, lenient.state, 7200);
    assert.equal(old.auth_time, signedInAt);

    const startedAt = Math.floor(Date.now() / 1000);
    const strict = await start(agent, { max_age: '60' });
    assert.equal(strict.url.pathname, '/signin', strict.url.href);
    const done = await agent.submit(
      '/signin',
      {
        username: user.email,
        password: user.password,
        returnTo: strict.url.searchParams.get('returnTo')!,
      },
      REDIRECT,
    );
    assert.ok(done.url.href.startsWith(REDIRECT), done.url.href);
    const fresh = await idTokenClaims(done.url, strict.verifier, strict.state, 60);
    assert.ok(Number(fresh.auth_time) >= startedAt);
    assert.equal(await sessionsOf(user.user.id), 2);
  });

  it('prompt=none without a session answers login_required to the client', async () => {
    const agent = new CookieAgent(origin);
    const res = await start(agent, { prompt: 'none' });
    assert.ok(res.url.href.startsWith(REDIRECT), res.url.href);
    assert.equal(res.url.searchParams.get('error'), 'login_required');
    assert.equal(res.url.searchParams.get('state'), res.state);
    assert.equal(res.url.searchParams.get('iss'), origin);
    assert.equal(res.url.searchParams.get('code'), null);

    // The same after the Gatehouse session ended, even though the provider's session remains.
    const user = await makeUser(t);
    const signedIn = new CookieAgent(origin);
    signedIn.setCookie('gh_session', user.token);
    const ok = await start(signedIn, {});
    assert.ok(ok.url.searchParams.get('code'));
    await t.http.post(`${API}/auth/logout`).set(user.auth).expect(204);
    const after = await start(signedIn, { prompt: 'none' });
    assert.equal(after.url.searchParams.get('error'), 'login_required');
  });
});
