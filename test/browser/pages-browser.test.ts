import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { UserToken } from '#src/auth/entities/user-token.entity.js';
import { AuthService } from '#src/auth/auth.service.js';
import { Database } from '#src/database/database.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { freePort } from '../support/listen.js';
import { SmtpCapture } from '../support/smtp.js';
import { login, sessionsOf, tokensOf, userByEmail } from '../factories/auth.js';
import { makeUser, uniqueEmail } from '../factories/users.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'a sturdy browser passphrase';
const NEW_PASSWORD = 'another sturdy passphrase';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * A person in real Chromium: registers, activates from the mailed link, signs in, resets the
 * password from the mailed link; every page checked with axe-core at desktop and phone widths.
 */
describe('pages for people in Chromium, with axe-core', { skip }, () => {
  const smtp = new SmtpCapture();
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const checked: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium), or set TEST_SKIP_BROWSER=1 to skip this test`,
      );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const smtpUrl = await smtp.start();
    t = await createTestApp({ PUBLIC_URL: base, REGISTRATION: 'activation', SMTP_URL: smtpUrl });
    await t.app.listen(port, '127.0.0.1');
    if (UPDATE_SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
    await smtp.stop();
  });

  /** axe-core on the page as it is, at both widths; a screenshot of each when asked. */
  async function check(name: string): Promise<void> {
    for (const [width, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      // Strings run in the page (this project compiles without the DOM library).
      const hasAxe = await page.evaluate<boolean>("typeof window.axe === 'object'");
      if (!hasAxe) await page.evaluate(axe.source);
      const violations = await page.evaluate<AxeViolation[]>(
        `axe.run(document).then((r) => r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => ({ target: n.target })),
        })))`,
      );
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad, [], `${name} at ${width}: ${JSON.stringify(bad, null, 1)}`);
      // Nothing wider than the phone: no sideways scrolling.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.ok(overflow <= 0, `${name} at ${width} scrolls sideways by ${overflow}px`);
      if (UPDATE_SCREENSHOTS)
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
    checked.push(name);
  }

  function linkIn(text: string, path: string): string {
    const url = text.match(/https?:\/\/\S+/g)?.find((u) => u.startsWith(`${base}${path}`));
    assert.ok(url, `a ${base}${path} link in: ${text}`);
    return url;
  }

  it('registers, activates from the mailed link, and signs in', async () => {
    const email = uniqueEmail('browser');
    await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, '/signin');
    await check('signin');

    await page.getByRole('link', { name: 'Create account' }).click();
    assert.equal(new URL(page.url()).pathname, '/register');
    await check('register');

    // Bad input: the messages at the fields, the email kept, the password not.
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Repeat the password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForSelector('#email-error');
    assert.match((await page.textContent('#email-error')) ?? '', /valid email address/);
    assert.match((await page.textContent('#password-error')) ?? '', /at least 12 characters/);
    assert.equal(await page.getByLabel('Email').inputValue(), 'not-an-email');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '');
    await check('register-errors');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Full name (optional)').fill('Robin Browser');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
    await check('register-check-mail');
    const user = await userByEmail(t, email);
    assert.equal(user?.status, 'pending');

    const mail = await smtp.waitFor(email, /Activate/);
    const link = linkIn(mail.text, '/activate?token=');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Activate your account' }).waitFor();
    await check('activate');
    // Opening the link spent nothing.
    assert.equal((await tokensOf(t, user.id))[0]?.usedAt, null);
    assert.equal((await userByEmail(t, email))?.status, 'pending');

    await page.getByRole('button', { name: 'Activate account' }).click();
    await page.waitForURL(`${base}/signin?notice=activated`);
    await check('signin-activated');
    assert.equal((await userByEmail(t, email))?.status, 'active');
    assert.notEqual((await tokensOf(t, user.id))[0]?.usedAt, null);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // No returnTo: to `/`, which sends someone who administers nothing on to /account.
    await page.waitForURL(`${base}/account`);
    assert.equal((await sessionsOf(t, user.id)).length, 1);
    await page.goto(`${base}/signin/done`);
    await page.getByRole('heading', { name: 'You are signed in' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/signin`);

    // The link again: used, with a way to ask for a new one.
    await page.goto(link);
    await page.getByRole('heading', { name: 'This link has already been used' }).waitFor();
    await check('activate-link-used');
  });

  it('resets a forgotten password from the mailed link', async () => {
    const u = await makeUser(t, { password: PASSWORD, signIn: false });
    await page.goto(`${base}/signin`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await check('forgot-password');
    await page.getByLabel('Email').fill(u.email);
    await page.getByRole('button', { name: 'Mail me a reset link' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
    await check('forgot-password-sent');

    const mail = await smtp.waitFor(u.email, /Reset/);
    const link = linkIn(mail.text, '/reset-password?requestId=');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await check('reset-password');

    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill('something different');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.waitForSelector('#passwordConfirm-error');
    await check('reset-password-errors');

    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.waitForURL(`${base}/signin?notice=password-reset`);
    await page.getByText('Your password has been changed').waitFor();
    await check('signin-password-reset');
    assert.equal((await login(t, u.email, PASSWORD)).status, 401);
    assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);
    const reset = (await tokensOf(t, u.user.id)).find((r) => r.kind === 'password_reset');
    assert.notEqual(reset?.usedAt, null);

    await page.goto(link);
    await page.getByRole('heading', { name: 'This link has already been used' }).waitFor();
    await check('reset-link-used');
  });

  it('asks an account without a password for one; shows expired links and the 404 page', async () => {
    const u = await makeUser(t, { status: 'pending', password: null, signIn: false });
    const auth = t.get(AuthService);
    const token = await t
      .get(Database)
      .transaction((tx) => auth.issueToken(tx, u.user.id, 'activation', 60));
    await page.goto(`${base}/activate?token=${token}`);
    await page.getByRole('heading', { name: 'Activate your account' }).waitFor();
    await check('activate-set-password');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Activate account' }).click();
    await page.waitForURL(`${base}/signin?notice=activated`);
    assert.equal((await userByEmail(t, u.email))?.status, 'active');
    assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);

    const other = await makeUser(t, { status: 'pending', signIn: false });
    const old = await t
      .get(Database)
      .transaction((tx) => auth.issueToken(tx, other.user.id, 'activation', 60));
    await t.db
      .getRepository(UserToken)
      .update({ userId: other.user.id }, { expiresAt: new Date(Date.now() - 1000) });
    await page.goto(`${base}/activate?token=${old}`);
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor();
    await check('activate-link-expired');
    await page.getByLabel('Email of your account').fill(other.email);
    await page.getByRole('button', { name: 'Send a new link' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
    await smtp.waitFor(other.email, /Activate/);

    const res = await page.goto(`${base}/no-such-page`);
    assert.equal(res?.status(), 404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await check('not-found');
  });

  it('checked every page state', () => {
    assert.equal(checked.length, 16, checked.join(', '));
  });
});
