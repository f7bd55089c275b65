import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { IsNull } from 'typeorm';
import { Session } from '#src/auth/entities/session.entity.js';
import { MfaFactor } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import { MfaRecoveryCode } from '#src/auth/mfa/entities/mfa-recovery-code.entity.js';
import { makeUser, uniqueEmail } from '../factories/users.js';
import { assertAccessible, ConsoleBrowser, screenshot, skip } from '../support/console-browser.js';

/** The TOTP code `offset` time steps from now (±1 step is inside the accepted window). */
function codeAt(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

/** Width of the QR image as the browser decoded it: 0 until it loads (or if the CSP blocked it). */
async function qrWidth(page: Page): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const w = await page.evaluate(() => {
      const d = globalThis as unknown as {
        document: { querySelector: (s: string) => { naturalWidth: number } | null };
      };
      return d.document.querySelector('[data-testid="totp-qr"]')?.naturalWidth ?? 0;
    });
    if (w > 0) return w;
    await sleep(100);
  }
  return 0;
}

/** The recovery codes the dialog shows, one a line. */
async function shownCodes(page: Page): Promise<string[]> {
  const text = (await page.getByTestId('recovery-codes').textContent()) ?? '';
  return text
    .split('\n')
    .map((c) => c.trim())
    .filter(Boolean);
}

/** Enrols an authenticator app through the dialog; answers its secret and the recovery codes. */
async function enrolTotp(page: Page, name: string): Promise<{ secret: string; codes: string[] }> {
  await page.getByRole('button', { name: 'Add authenticator app' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add an authenticator app' });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{16,}$/);
  await dialog.getByLabel('Code from the app').fill(await codeAt(secret));
  await dialog.getByRole('button', { name: 'Turn on' }).click();
  await page.getByTestId('recovery-codes').waitFor();
  return { secret, codes: await shownCodes(page) };
}

describe('account sign-in security (MFA) in Chromium', { skip }, () => {
  const s = new ConsoleBrowser();
  // WebAuthn needs a domain as relying party id: the app is served on localhost.
  before(() => s.start({}, { host: 'localhost' }));
  after(() => s.stop());

  it('enrols an authenticator app and a passkey, signs in with the code, re-authenticates and removes both', async () => {
    const { t, base } = s;
    const u = await makeUser(t, { fullName: 'Mo Factor', email: uniqueEmail('mo') });
    const { context, page } = await s.signedIn(u, '/account');
    const factors = t.db.getRepository(MfaFactor);
    const codesRepo = t.db.getRepository(MfaRecoveryCode);
    try {
      await page.getByRole('heading', { name: 'Sign-in security' }).waitFor();
      await page.getByText('No second factor yet').waitFor();

      // A wrong code: said at the field, the factor is not in force.
      await page.getByRole('button', { name: 'Add authenticator app' }).click();
      const add = page.getByRole('dialog', { name: 'Add an authenticator app' });
      await add.getByLabel('Name', { exact: true }).fill('Phone');
      await add.getByRole('button', { name: 'Continue' }).click();
      const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(
        /\s/g,
        '',
      );
      assert.match(secret, /^[A-Z2-7]{16,}$/);
      const src = (await page.getByTestId('totp-qr').getAttribute('src')) ?? '';
      assert.match(src, /^data:image\/png;base64,/);
      assert.ok((await qrWidth(page)) > 0, 'the QR code image loads under the console CSP');
      await assertAccessible(page, 'add authenticator app');
      await screenshot(page, 'account-mfa-totp');
      const wrong = (await codeAt(secret)) === '000000' ? '111111' : '000000';
      await add.getByLabel('Code from the app').fill(wrong);
      await add.getByRole('button', { name: 'Turn on' }).click();
      await add.locator('input[name="code"][aria-invalid="true"]').waitFor();
      const pending = await factors.findOneByOrFail({ userId: u.user.id, type: 'totp' });
      assert.equal(pending.confirmedAt, null, 'a wrong code confirms nothing');
      assert.equal(await codesRepo.countBy({ userId: u.user.id }), 0);

      await add.getByLabel('Code from the app').fill(await codeAt(secret));
      await add.getByRole('button', { name: 'Turn on' }).click();
      await page.getByTestId('recovery-codes').waitFor();
      const firstCodes = await shownCodes(page);
      assert.equal(firstCodes.length, 10);
      await assertAccessible(page, 'recovery codes');
      await screenshot(page, 'account-mfa-recovery-codes');
      const totp = await factors.findOneByOrFail({ id: pending.id });
      assert.ok(totp.confirmedAt, 'the authenticator app is in force');
      assert.equal(totp.name, 'Phone');
      const stored = await codesRepo.findBy({ userId: u.user.id });
      assert.equal(stored.length, 10);
      const raw = JSON.stringify(await t.db.query('SELECT * FROM mfa_recovery_codes'));
      assert.ok(!firstCodes.some((c) => raw.includes(c)), 'only hashes of the codes are stored');
      await add.getByRole('button', { name: 'I saved them' }).click();
      await page.getByRole('button', { name: 'Remove Phone' }).waitFor();
      assert.match((await page.getByTestId('recovery-codes-left').textContent()) ?? '', /10 of 10/);

      // Signed out, the password alone is not enough: the two-step page asks for a code.
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.waitForURL((url) => url.pathname === '/signin');
      await page.goto(`${base}/account`);
      await page.waitForURL((url) => url.pathname === '/signin');
      await page.fill('#username', u.email);
      await page.fill('#password', u.password);
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.pathname === '/signin/mfa');
      // The code of the next step: the one used to confirm is spent.
      await page.fill('#code', await codeAt(secret, 1));
      await page.click('button[type="submit"]');
      await page.waitForURL(`${base}/account`);
      await page.getByTestId('signed-in-email').waitFor();
      assert.ok((await factors.findOneByOrFail({ id: totp.id })).lastUsedAt, 'the code was used');
      const live = await t.db
        .getRepository(Session)
        .findBy({ userId: u.user.id, revokedAt: IsNull(), method: 'password' });
      assert.ok(
        live.some((x) => x.amr === 'pwd otp mfa'),
        `a session signed in with password and code: ${JSON.stringify(live.map((x) => x.amr))}`,
      );

      // A passkey, with Chromium's virtual authenticator; not the first factor: no new codes.
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      await page.getByRole('button', { name: 'Add passkey' }).click();
      const pk = page.getByRole('dialog', { name: 'Add a passkey' });
      await pk.getByLabel('Name', { exact: true }).fill('Laptop');
      await assertAccessible(page, 'add passkey');
      await pk.getByRole('button', { name: 'Create passkey' }).click();
      await pk.waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Remove Laptop' }).waitFor();
      const passkey = await factors.findOneByOrFail({ userId: u.user.id, type: 'webauthn' });
      assert.equal(passkey.name, 'Laptop');
      assert.ok(passkey.credentialId && passkey.publicKey && passkey.confirmedAt);
      assert.equal(await codesRepo.countBy({ userId: u.user.id }), 10, 'the codes are unchanged');
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
      await assertAccessible(page, 'sign-in security');
      await screenshot(page, 'account-mfa');

      // New recovery codes replace the old ones.
      await page.getByRole('button', { name: 'Make new recovery codes' }).click();
      const rc = page.getByRole('dialog', { name: 'New recovery codes' });
      await rc.getByRole('button', { name: 'Make new codes' }).click();
      await page.getByTestId('recovery-codes').waitFor();
      const newCodes = await shownCodes(page);
      assert.equal(newCodes.length, 10);
      assert.ok(!newCodes.some((c) => firstCodes.includes(c)), 'all new codes');
      const restored = await codesRepo.findBy({ userId: u.user.id });
      assert.equal(restored.length, 10);
      assert.ok(!restored.some((r) => stored.some((o) => o.codeHash === r.codeHash)));
      await rc.getByRole('button', { name: 'I saved them' }).click();
      await rc.waitFor({ state: 'detached' });

      // The sign-in is no longer recent: removing asks to confirm it's you (a recovery code here).
      await t.db
        .getRepository(Session)
        .update({ userId: u.user.id }, { authTime: new Date(Date.now() - 3_600_000) });
      await page.getByRole('button', { name: 'Remove Phone' }).click();
      const rm = page.getByRole('dialog', { name: 'Remove this factor' });
      await rm.getByRole('button', { name: 'Remove', exact: true }).click();
      const reauth = page.getByRole('dialog', { name: "Confirm it's you" });
      await reauth.getByLabel('Password', { exact: true }).waitFor();
      await assertAccessible(page, 'confirm it is you');
      await screenshot(page, 'account-reauthenticate');
      // A wrong password keeps the dialog (and the session): nothing removed.
      await reauth.getByLabel('Password', { exact: true }).fill('not the password');
      await reauth.getByRole('button', { name: 'Continue' }).click();
      await reauth.getByText('That did not work').waitFor();
      assert.equal(new URL(page.url()).pathname, '/account');
      assert.ok(await factors.findOneBy({ id: totp.id }), 'still there');
      await reauth.getByRole('button', { name: 'Use a code instead' }).click();
      await reauth.getByLabel('Code', { exact: true }).fill(newCodes[0]!);
      await reauth.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Remove Phone' }).waitFor({ state: 'detached' });
      assert.equal(await factors.findOneBy({ id: totp.id }), null, 'the app is removed');
      const used = await codesRepo.findBy({ userId: u.user.id });
      assert.equal(used.filter((c) => c.usedAt).length, 1, 'the recovery code is spent');
      await page.getByText('9 of 10').waitFor();

      // Recent again: the passkey goes without asking.
      await page.getByRole('button', { name: 'Remove Laptop' }).click();
      await page
        .getByRole('dialog', { name: 'Remove this factor' })
        .getByRole('button', { name: 'Remove', exact: true })
        .click();
      await page.getByText('No second factor yet').waitFor();
      assert.equal(await factors.countBy({ userId: u.user.id }), 0);
    } catch (e) {
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({
        path: `test-artifacts/console-mfa-failure-${Date.now()}.png`,
        fullPage: true,
      });
      throw e;
    } finally {
      await context.close();
    }
  });

  it('leads an enrolment-only session (MFA_REQUIRED) to enrol first, then opens the account', async () => {
    const { t, base } = s;
    const u = await makeUser(t, {
      fullName: 'Nia Needs',
      email: uniqueEmail('nia'),
      signIn: false,
    });
    t.config.mfaRequired = 'all';
    const { context, page } = await s.signedIn(u, '/account').finally(() => {
      t.config.mfaRequired = 'none';
    });
    try {
      const session = await t.db.getRepository(Session).findOneByOrFail({ userId: u.user.id });
      assert.equal(session.mfaEnrolment, true, 'the server made an enrolment-only session');
      await page.getByText('Set up a second factor to continue').waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Profile' }).count(), 0);
      await assertAccessible(page, 'enrolment required');
      await screenshot(page, 'account-mfa-enrolment-required');
      await page.goto(`${base}/console/users`);
      await page.waitForURL(`${base}/account`);
      await page.getByText('Set up a second factor to continue').waitFor();

      const { codes } = await enrolTotp(page, 'Phone');
      assert.equal(codes.length, 10);
      await page.getByRole('button', { name: 'I saved them' }).click();
      // The session is a full one now: the rest of the account appears.
      await page.getByRole('heading', { name: 'Profile' }).waitFor();
      assert.equal(await page.getByText('Set up a second factor to continue').count(), 0);
      const after = await t.db.getRepository(Session).findOneByOrFail({ id: session.id });
      assert.equal(after.mfaEnrolment, false);
      assert.equal(await t.db.getRepository(MfaFactor).countBy({ userId: u.user.id }), 1);
    } catch (e) {
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({
        path: `test-artifacts/console-mfa-failure-${Date.now()}.png`,
        fullPage: true,
      });
      throw e;
    } finally {
      await context.close();
    }
  });
});
