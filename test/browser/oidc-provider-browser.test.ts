import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import * as client from 'openid-client';
import { Session } from '#src/auth/entities/session.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { freePort } from '../support/listen.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const CHROMIUM = '/usr/bin/chromium';
const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

/**
 * An application signs people in with Gatehouse in a real browser: openid-client builds the
 * authorization request (code + PKCE), Chromium goes through Gatehouse's sign-in and consent pages,
 * the redirect back is caught at the client's loopback redirect URI.
 */
describe('OpenID Provider sign-in in Chromium', { skip }, () => {
  let t: TestApp;
  let base = '';
  let admin: MadeUser;
  let context: BrowserContext;
  let page: Page;
  let userDataDir = '';
  // A web application (https redirect URIs; loopback ones would make it a native client, which
  // the provider asks consent of at every authorization).
  const redirect = 'https://wiki.example/callback';
  const postLogout = 'https://wiki.example/bye';
  const caught: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install it, or set TEST_SKIP_BROWSER=1`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp({ PUBLIC_URL: base });
    await t.app.listen(port, '127.0.0.1');
    admin = await makeUser(t, { role: 'admin' });
    userDataDir = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-op-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    // The client application: its redirect URIs answer a plain page and are remembered.
    await context.route('https://wiki.example/**', async (route) => {
      caught.push(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>client</p>' });
    });
    page = context.pages()[0] ?? (await context.newPage());
  });
  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await t?.close();
  });

  it('completes code + PKCE through the sign-in and consent pages, then RP-initiated logout ends both sessions', async () => {
    const created = await t.http
      .post('/api/v1/clients')
      .set(admin.auth)
      .send({
        name: 'Third-party wiki',
        redirectUris: [redirect],
        postLogoutRedirectUris: [postLogout],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        scopes: ['openid', 'email', 'offline_access'],
      });
    assert.equal(created.status, 201);
    const { clientId, clientSecret } = created.body as { clientId: string; clientSecret: string };
    const config = await client.discovery(
      new URL(base),
      clientId,
      undefined,
      client.ClientSecretBasic(clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
    const person = await makeUser(t, { signIn: false });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope: 'openid email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      prompt: 'consent',
    });

    await page.goto(url.href);
    await page.waitForURL((u) => u.pathname === '/signin');
    await page.fill('#username', person.email);
    await page.fill('#password', person.password);
    await page.click('button[type="submit"]');
    // Third party: the consent page, naming the client and what it asks for.
    await page.waitForURL((u) => u.pathname.startsWith('/oidc/interaction/'));
    assert.match((await page.textContent('h1')) ?? '', /Allow Third-party wiki access/);
    assert.match((await page.textContent('main')) ?? '', /See your email address/);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirect));
    const back = new URL(caught.at(-1)!);
    assert.equal(back.searchParams.get('iss'), base);

    const tokens = await client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, person.user.id);
    // Scope-requested claims are at UserInfo (conformIdTokenClaims), not in the ID token.
    assert.equal(claims['email'], undefined);
    const info = await client.fetchUserInfo(config, tokens.access_token, person.user.id);
    assert.equal(info.email, person.email);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

    // A second authorization with the same scopes: signed in and consented, straight back.
    const again = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    // (Playwright does not route a redirect reached from page.goto: the request is what counts.)
    const [straight] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(redirect)),
      page.goto(again.href).catch(() => null),
    ]);
    assert.ok(new URL(straight.url()).searchParams.get('code'));

    // RP-initiated logout: the confirmation page, then both sessions end.
    const live = await t.db.getRepository(Session).findBy({ userId: person.user.id });
    assert.equal(live.filter((s) => s.revokedAt === null).length, 1);
    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: postLogout,
    });
    // A fresh tab: the previous one is still settling its (unrouted) redirect.
    page = await context.newPage();
    await page.goto(logout.href);
    await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(postLogout)),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    const after = await t.db.getRepository(Session).findBy({ userId: person.user.id });
    assert.equal(after.filter((s) => s.revokedAt === null).length, 0);
    assert.equal(
      (await context.cookies(base)).find((c) => c.name === 'gh_session'),
      undefined,
      'the Gatehouse cookie is cleared',
    );

    // Signed out: the next authorization asks to sign in again (in a fresh tab: this one may
    // still be failing its way to the unrouted post-logout address, which would interrupt).
    page = await context.newPage();
    await page.goto(again.href);
    await page.waitForURL((u) => u.pathname === '/signin');
  });
});
