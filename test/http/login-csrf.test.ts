import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { nestRoutes } from '../support/routes.js';
import { makeUser, uniqueEmail } from '../factories/users.js';
import { API, sessionsOf, userByEmail } from '../factories/auth.js';
import { setCookies } from '../factories/oidc.js';

const EVIL = 'https://evil.example';

/**
 * Login CSRF: a page elsewhere must not be able to sign a visitor into an account of its choosing.
 * Every route that sets the session cookie takes JSON, or a form from our own pages.
 */
describe('Routes that set the session cookie refuse cross-site forms', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('are declared at the route: sign-up, login, the sign-in pages and the OIDC callback', () => {
    const declared = nestRoutes(t.app)
      .filter((r) => r.requirement?.public && r.requirement.setsSessionCookie)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    assert.deepEqual(declared, [
      'GET /api/v1/auth/oidc/:provider/callback',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/login/mfa',
      'POST /api/v1/auth/login/passkey',
      'POST /api/v1/auth/signup',
      'POST /signin',
      'POST /signin/link',
      'POST /signin/mfa',
    ]);
  });

  it('refuses a cross-site form POST to /auth/login: problem+json, no cookie, no session', async () => {
    const u = await makeUser(t, { signIn: false });
    for (const origin of [EVIL, undefined]) {
      const req = t.http.post(`${API}/auth/login`).type('form');
      if (origin) void req.set('Origin', origin);
      const res = await req.send({ username: u.email, password: u.password });
      assertProblem(res, 403);
      assert.equal(res.body.type, 'https://gatehouse.dev/problems/csrf-failed');
      assert.equal(res.headers['set-cookie'], undefined);
    }
    // text/plain is the other body a cross-site form can send; a JSON-looking one is no exception.
    const plain = await t.http
      .post(`${API}/auth/login`)
      .set('Origin', EVIL)
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ username: u.email, password: u.password }));
    assertProblem(plain, 403);
    assert.equal(plain.headers['set-cookie'], undefined);
    assert.equal((await sessionsOf(t, u.user.id)).length, 0);
  });

  it('refuses cross-site forms at the second step and the passkey sign-in', async () => {
    for (const path of [`${API}/auth/login/mfa`, `${API}/auth/login/passkey`]) {
      const res = await t.http
        .post(path)
        .type('form')
        .set('Origin', EVIL)
        .send({ mfaToken: 'gthm_x', code: '123456' });
      assertProblem(res, 403);
      assert.equal(res.body.type, 'https://gatehouse.dev/problems/csrf-failed');
      assert.equal(res.headers['set-cookie'], undefined);
    }
  });

  it('refuses a cross-site form POST to /auth/signup, creating no user', async () => {
    const email = uniqueEmail('csrf');
    const res = await t.http
      .post(`${API}/auth/signup`)
      .set('Origin', EVIL)
      .type('form')
      .send({ email, password: 'a long enough password' });
    assertProblem(res, 403);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(await userByEmail(t, email), null);
  });

  it('refuses a cross-site form POST to the sign-in pages with an HTML page', async () => {
    const u = await makeUser(t, { signIn: false });
    for (const path of ['/signin', '/signin/link']) {
      const res = await t.http
        .post(path)
        .set('Origin', EVIL)
        .type('form')
        .send({ username: u.email, password: u.password });
      assert.equal(res.status, 403, `${path}: ${res.text}`);
      assert.match(res.headers['content-type'] ?? '', /^text\/html/);
      assert.match(res.text, /Form sent from another site/);
      assert.equal(setCookies(res).get('gh_session'), undefined);
    }
    assert.equal((await sessionsOf(t, u.user.id)).length, 0);
  });

  it('still signs in a JSON API client from any origin, without cookies', async () => {
    const u = await makeUser(t, { signIn: false });
    const res = await t.http
      .post(`${API}/auth/login`)
      .set('Origin', EVIL)
      .send({ username: u.email, password: u.password });
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.token, /^gths_/);
    assert.equal((await sessionsOf(t, u.user.id)).length, 1);
  });

  it('still takes a form from our own pages (matching Origin), on /auth/login and /signin', async () => {
    const u = await makeUser(t, { signIn: false });
    const api = await t.http
      .post(`${API}/auth/login`)
      .set('Origin', t.origin)
      .type('form')
      .send({ username: u.email, password: u.password });
    assert.equal(api.status, 200, api.text);
    assert.ok(setCookies(api).get('gh_session'));
    const page = await t.http
      .post('/signin')
      .set('Origin', t.origin)
      .type('form')
      .send({ username: u.email, password: u.password });
    assert.equal(page.status, 303, page.text);
    assert.ok(setCookies(page).get('gh_session'));
    assert.equal((await sessionsOf(t, u.user.id)).length, 2);
  });
});
