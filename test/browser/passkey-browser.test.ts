import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { MfaFactor } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { freePort } from '../support/listen.js';
import { makeUser } from '../factories/users.js';

const CHROMIUM = '/usr/bin/chromium';
const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  assertion?: unknown;
}

/**
 * Runs in the page (our origin): WebAuthn options from the API to navigator.credentials and the
 * credential back as the JSON @simplewebauthn/server reads. Plain JavaScript (the tests compile
 * without the DOM types); test code only, nothing is shipped.
 */
const IN_PAGE = `
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
async function register() {
  const opts = await (await fetch('/api/v1/users/me/mfa/webauthn/options', { method: 'POST' })).json();
  const cred = await navigator.credentials.create({ publicKey: {
    ...opts,
    challenge: unb64(opts.challenge),
    user: { ...opts.user, id: unb64(opts.user.id) },
    excludeCredentials: (opts.excludeCredentials || []).map((c) => ({ type: 'public-key', id: unb64(c.id) })),
  } });
  const response = { id: cred.id, rawId: b64(cred.rawId), type: cred.type, clientExtensionResults: {},
    response: { clientDataJSON: b64(cred.response.clientDataJSON),
      attestationObject: b64(cred.response.attestationObject), transports: cred.response.getTransports() } };
  const res = await fetch('/api/v1/users/me/mfa/webauthn', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Laptop', response }) });
  return { status: res.status, body: await res.json() };
}
async function signIn(replayed) {
  let assertion = replayed;
  if (!assertion) {
    const opts = await (await fetch('/api/v1/auth/login/passkey/options', { method: 'POST' })).json();
    const cred = await navigator.credentials.get({ publicKey: { challenge: unb64(opts.challenge),
      rpId: opts.rpId, userVerification: 'preferred', allowCredentials: [] } });
    assertion = { id: cred.id, rawId: b64(cred.rawId), type: cred.type, clientExtensionResults: {},
      response: { clientDataJSON: b64(cred.response.clientDataJSON),
        authenticatorData: b64(cred.response.authenticatorData), signature: b64(cred.response.signature),
        userHandle: cred.response.userHandle ? b64(cred.response.userHandle) : undefined } };
  }
  const res = await fetch('/api/v1/auth/login/passkey', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ response: assertion }) });
  return { status: res.status, body: await res.json(), assertion };
}
`;

function registerPasskey(page: Page): Promise<Answer> {
  return page.evaluate(`(async () => { ${IN_PAGE}; return register(); })()`);
}

function signInWithPasskey(page: Page, replay?: unknown): Promise<Answer> {
  return page.evaluate(
    `(async () => { ${IN_PAGE}; return signIn(${JSON.stringify(replay ?? null)}); })()`,
  );
}

describe('passkeys in Chromium with a virtual authenticator', { skip }, () => {
  let t: TestApp;
  let base = '';
  let context: BrowserContext;
  let page: Page;
  let userDataDir = '';
  let cdp: CDPSession;
  let authenticatorId = '';

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing, or set TEST_SKIP_BROWSER=1 to skip this test`);
    const port = await freePort();
    // WebAuthn needs a domain as relying party id (not an IP address); localhost is a secure context.
    base = `http://localhost:${port}`;
    t = await createTestApp({ PUBLIC_URL: base });
    await t.app.listen(port, '127.0.0.1');
    userDataDir = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--host-resolver-rules=MAP localhost 127.0.0.1',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
  });
  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await t?.close();
  });

  it('registers a discoverable passkey, then signs in with it alone; an assertion works once', async () => {
    const u = await makeUser(t, { signIn: false });
    await page.goto(`${base}/signin`);
    const signedIn = await page.evaluate(
      async ([username, password]) =>
        (
          await fetch('/api/v1/auth/login', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username, password }),
          })
        ).status,
      [u.email, u.password] as const,
    );
    assert.equal(signedIn, 200);

    const registered = await registerPasskey(page);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal((registered.body['recoveryCodes'] as string[]).length, 10);
    const factor = await t.db
      .getRepository(MfaFactor)
      .findOneByOrFail({ id: registered.body['factorId'] as string });
    assert.equal(factor.type, 'webauthn');
    assert.equal(factor.userId, u.user.id);
    assert.ok(factor.credentialId && factor.publicKey && factor.confirmedAt);

    await context.clearCookies();
    const passkey = await signInWithPasskey(page);
    assert.equal(passkey.status, 200, JSON.stringify(passkey.body));
    assert.equal((passkey.body['user'] as { id: string }).id, u.user.id);
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: u.user.id, amr: 'hwk user' });
    assert.equal(session.method, 'passkey');
    assert.ok((await t.db.getRepository(MfaFactor).findOneByOrFail({ id: factor.id })).lastUsedAt);

    const replay = await signInWithPasskey(page, passkey.assertion);
    assert.equal(replay.status, 401, 'the challenge is spent');

    // The password alone no longer signs in: the passkey is a factor in force.
    const pwd = await t.http
      .post('/api/v1/auth/login')
      .send({ username: u.email, password: u.password });
    assert.equal(pwd.body.mfaRequired, true);
    assert.deepEqual(
      (pwd.body.factors as { type: string }[]).map((f) => f.type),
      ['webauthn'],
    );
  });

  it('the sign-in pages: "Sign in with a passkey" on /signin, "Use a passkey" as the second step', async () => {
    await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
    await context.clearCookies();
    const u = await makeUser(t, { signIn: false });
    await page.goto(`${base}/signin`);
    // Without a session the page offers the button (the script shows it: WebAuthn is there).
    assert.equal(await page.isVisible('#passkey-signin'), true);
    const signedIn = await page.evaluate(
      async ([username, password]) =>
        (
          await fetch('/api/v1/auth/login', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username, password }),
          })
        ).status,
      [u.email, u.password] as const,
    );
    assert.equal(signedIn, 200);
    assert.equal((await registerPasskey(page)).status, 201);

    // Passwordless from the page.
    await context.clearCookies();
    await page.goto(`${base}/signin?returnTo=%2Fsignin%2Fdone`);
    await page.click('#passkey-signin');
    await page.waitForURL((url) => url.pathname === '/signin/done');
    assert.ok((await page.textContent('main'))?.includes(u.email));
    assert.equal(
      await t.db.getRepository(Session).countBy({ userId: u.user.id, amr: 'hwk user' }),
      1,
    );

    // Password, then the passkey as the second step.
    await context.clearCookies();
    await page.goto(`${base}/signin?returnTo=%2Fsignin%2Fdone`);
    await page.fill('#username', u.email);
    await page.fill('#password', u.password);
    await page.click('form[action="/signin"] button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/signin/mfa');
    assert.equal(
      await t.db.getRepository(Session).countBy({ userId: u.user.id, amr: 'pwd hwk mfa' }),
      0,
    );
    assert.equal(await page.isVisible('#passkey-mfa'), true);
    await page.click('#passkey-mfa');
    await page.waitForURL((url) => url.pathname === '/signin/done');
    assert.ok((await page.textContent('main'))?.includes(u.email));
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: u.user.id, amr: 'pwd hwk mfa' });
    assert.equal(session.method, 'password');
  });
});
