import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { UserToken } from '#src/auth/entities/user-token.entity.js';
import { AuthService } from '#src/auth/auth.service.js';
import { Database } from '#src/database/database.service.js';
import type { TestApp } from '../support/app.js';
import { PagesBrowser, skip } from '../support/pages-browser.js';
import { login, sessionsOf, tokensOf, userByEmail } from '../factories/auth.js';
import { makeUser, uniqueEmail } from '../factories/users.js';

const PASSWORD = 'a sturdy browser passphrase';
const NEW_PASSWORD = 'another sturdy passphrase';

/**
 * A person in real Chromium: registers, activates from the mailed link, signs in, resets the
 * password from the mailed link; every page checked with axe-core at desktop and phone widths.
 */
describe('pages for people in Chromium, with axe-core', { skip }, () => {
  const s = new PagesBrowser();
  const { smtp, checked } = s;
  const check = (name: string): Promise<void> => s.check(name);
  let t: TestApp;
  let base = '';
  let page: Page;

  before(async () => {
    await s.start({ REGISTRATION: 'activation' });
    ({ t, base, page } = s);
  });
  after(() => s.stop());

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
