import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { freePort } from '../support/listen.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { makeUser } from '../factories/users.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
// Without Chromium the test fails (launching it fails), unless TEST_SKIP_BROWSER=1 opts out: then it
// is skipped with the reason printed.
const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

/** A real browser (Debian's Chromium through playwright-core) through the sign-in pages. */
describe('browser sign-in in Chromium', { skip }, () => {
  const idp = new TestOidcProvider();
  let t: TestApp;
  let base = '';
  let context: BrowserContext;
  let page: Page;
  let userDataDir = '';
  const dialogs: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium), or set TEST_SKIP_BROWSER=1 to skip this test`,
      );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await idp.start([`${base}/api/v1/auth/oidc/dev/callback`]);
    t = await createTestApp({
      PUBLIC_URL: base,
      OIDC_PROVIDERS: JSON.stringify([idp.providerConfig('dev', { name: 'Dev IdP' })]),
    });
    await t.app.listen(port, '127.0.0.1');
    mkdirSync(ARTIFACTS, { recursive: true });
    userDataDir = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });
  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await t?.close();
    await idp.stop();
  });

  async function signInAtIdp(login: string): Promise<void> {
    await page.goto(`${base}/signin`);
    await page.getByRole('link', { name: 'Sign in with Dev IdP' }).click();
    await page.waitForURL((u) => u.href.startsWith(idp.issuer));
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
  }

  it('signs a new person in through the provider and lands signed in', async () => {
    // Away from the last test's page first: the account app, finding its session gone, would
    // navigate to /signin by itself and interrupt this test's first navigation.
    await page.goto('about:blank');
    await context.clearCookies();
    await page.goto(`${base}/signin`);
    assert.equal(await page.title(), 'Sign in · Gatehouse');
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-signin-page.png'), fullPage: true });
    await signInAtIdp('browser-alice');
    // No returnTo: the default `/` sends a plain user on to their account page.
    await page.waitForURL(`${base}/account`);
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    // /signin/done still says who is signed in and offers the sign-out form.
    await page.goto(`${base}/signin/done`);
    assert.match((await page.textContent('main')) ?? '', /You are signed in/);
    assert.match((await page.textContent('main')) ?? '', /browser-alice/);
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-signed-in.png'), fullPage: true });
    const cookie = (await context.cookies(base)).find((c) => c.name === 'gh_session');
    assert.ok(cookie?.value.startsWith('gths_'));
    assert.equal(cookie?.sameSite, 'Lax');
    assert.equal(cookie?.httpOnly, true);
    const user = await t.db
      .getRepository(User)
      .findOneByOrFail({ emailNormalized: 'browser-alice@example.test' });
    assert.equal(await t.db.getRepository(UserIdentity).countBy({ userId: user.id }), 1);
    // Sign out through the page's form (a same-origin POST: the Origin check lets it through).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/signin`);
  });

  it('signs in with a password through the page form', async () => {
    // Away from the last test's page first: the account app, finding its session gone, would
    // navigate to /signin by itself and interrupt this test's first navigation.
    await page.goto('about:blank');
    await context.clearCookies();
    const local = await makeUser(t, { signIn: false });
    await page.goto(`${base}/signin`);
    await page.fill('#username', local.email);
    await page.fill('#password', 'wrong password here');
    await page.click('button[type="submit"]');
    assert.match((await page.textContent('.alert')) ?? '', /email or password is incorrect/);
    await page.fill('#password', local.password);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/account`);
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    await page.goto(`${base}/signin/done`);
    assert.ok(((await page.textContent('main')) ?? '').includes(local.email));
  });

  it('confirms a link with the local password on the confirm-link page', async () => {
    // Away from the last test's page first: the account app, finding its session gone, would
    // navigate to /signin by itself and interrupt this test's first navigation.
    await page.goto('about:blank');
    await context.clearCookies();
    const local = await makeUser(t, { emailVerified: true, signIn: false });
    idp.accounts.set('browser-linker', { email: local.email, email_verified: true });
    await signInAtIdp('browser-linker');
    await page.waitForURL(`${base}/signin/link`);
    assert.match((await page.textContent('h1')) ?? '', /Link your Dev IdP sign-in/);
    await page.fill('#password', 'not the right password');
    await page.click('button[type="submit"]');
    assert.match((await page.textContent('.alert')) ?? '', /password is not correct/);
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-confirm-link.png'), fullPage: true });
    await page.fill('#password', local.password);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/account`);
    const ids = await t.db.getRepository(UserIdentity).findBy({ userId: local.user.id });
    assert.deepEqual(
      ids.map((i) => i.subject),
      ['browser-linker'],
    );
  });

  it('shows a plain error page when linking is refused, echoing nothing from the provider', async () => {
    // Away from the last test's page first: the account app, finding its session gone, would
    // navigate to /signin by itself and interrupt this test's first navigation.
    await page.goto('about:blank');
    await context.clearCookies();
    const local = await makeUser(t, { emailVerified: true, signIn: false });
    idp.accounts.set('browser-carol', { email: local.email, email_verified: false });
    await signInAtIdp('browser-carol');
    await page.waitForURL((u) => u.pathname.endsWith('/api/v1/auth/oidc/dev/callback'));
    assert.match((await page.textContent('h1')) ?? '', /Email address not verified/);
    await page.screenshot({ path: join(ARTIFACTS, 'oidc-error.png'), fullPage: true });
    assert.equal(
      (await context.cookies(base)).find((c) => c.name === 'gh_session'),
      undefined,
      'not signed in',
    );
    await page.goto(
      `${base}/api/v1/auth/oidc/dev/callback?error=access_denied&error_description=${encodeURIComponent('<img src=x onerror=alert(1)>')}`,
    );
    assert.match((await page.textContent('h1')) ?? '', /did not sign you in/);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(dialogs, []);
  });
});
