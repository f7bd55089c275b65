import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { OidcLoginAttempt } from '#src/auth/oidc/oidc-login-attempt.entity.js';
import { OidcPendingLink } from '#src/auth/oidc/oidc-pending-link.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/app.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { SmtpCapture } from '../support/smtp.js';
import { login as passwordLogin, userByEmail, userWithPasswordHash } from '../factories/auth.js';
import { callback, counts, setCookieLine, setCookies, startLogin } from '../factories/oidc.js';
import { makeUser, PASSWORD, uniqueEmail } from '../factories/users.js';

const cb = (id: string) => `${TEST_PUBLIC_URL}/api/v1/auth/oidc/${id}/callback`;

describe('browser sign-in through a real OpenID Connect provider (oidc-provider)', () => {
  const idp = new TestOidcProvider(); // not trusted for linking
  const trusted = new TestOidcProvider(); // trustEmailForLinking: true
  const smtp = new SmtpCapture();
  let t: TestApp;

  before(async () => {
    await idp.start([cb('idp')]);
    await trusted.start([cb('trusted')]);
    const smtpUrl = await smtp.start();
    t = await createTestApp({
      SMTP_URL: smtpUrl,
      OIDC_PROVIDERS: JSON.stringify([
        idp.providerConfig('idp', { name: 'Test <IdP>' }),
        trusted.providerConfig('trusted', { name: 'Trusted IdP', trustEmailForLinking: true }),
      ]),
    });
  });
  after(async () => {
    await t.close();
    await idp.stop();
    await trusted.stop();
    await smtp.stop();
  });

  /** The whole flow without a browser: login, the provider's form as `login`, the callback. */
  async function signIn(
    providerId: 'idp' | 'trusted',
    login: string,
    opts: { returnTo?: string; session?: string } = {},
  ) {
    const provider = providerId === 'idp' ? idp : trusted;
    const started = await startLogin(t, providerId, { returnTo: opts.returnTo });
    const back = await provider.authorize(started.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const res = await callback(t, back, started.binding, opts.session);
    return { res, started, cookies: setCookies(res) };
  }

  const identitiesOf = (userId: string) => t.db.getRepository(UserIdentity).findBy({ userId });

  it('lists the configured providers publicly, with absolute login URLs', async () => {
    const res = await t.http.get('/api/v1/auth/providers');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      items: [
        {
          id: 'idp',
          name: 'Test <IdP>',
          loginUrl: `${TEST_PUBLIC_URL}/api/v1/auth/oidc/idp/login`,
        },
        {
          id: 'trusted',
          name: 'Trusted IdP',
          loginUrl: `${TEST_PUBLIC_URL}/api/v1/auth/oidc/trusted/login`,
        },
      ],
      nextCursor: null,
    });
  });

  it('starts the code flow with state, nonce, PKCE S256 and an absolute callback URL', async () => {
    const res = await t.http.get('/api/v1/auth/oidc/idp/login').query({ returnTo: '/projects' });
    assert.equal(res.status, 302);
    const url = new URL(res.headers['location'] as string);
    assert.equal(url.origin, idp.issuer);
    const p = url.searchParams;
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('client_id'), idp.clientId);
    assert.equal(p.get('redirect_uri'), cb('idp'));
    assert.deepEqual(p.get('scope')?.split(' ').sort(), ['email', 'openid', 'profile']);
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge') ?? '', /^[\w-]{43}$/);
    assert.ok((p.get('nonce') ?? '').length >= 20);
    assert.ok((p.get('state') ?? '').length >= 32);
    const cookie = setCookieLine(res, 'gh_oidc') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\/api\/v1\/auth\/oidc/);
    const stateHash = createHash('sha256')
      .update(p.get('state') ?? '')
      .digest('hex');
    const row = await t.db.getRepository(OidcLoginAttempt).findOneByOrFail({ stateHash });
    assert.equal(row.returnTo, '/projects');
    assert.equal(row.providerId, 'idp');
    const ttl = row.expiresAt.getTime() - row.createdAt.getTime();
    assert.equal(ttl, 10 * 60_000);
  });

  it('refuses a returnTo that is not a relative path, with an error page and no attempt', async () => {
    const before = await t.db.getRepository(OidcLoginAttempt).count();
    for (const bad of [
      '//evil.example/x',
      '/\\evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '/\t/evil.example',
      'evil',
    ]) {
      const res = await t.http.get('/api/v1/auth/oidc/idp/login').query({ returnTo: bad });
      assert.equal(res.status, 400, bad);
      assert.match(res.headers['content-type'] as string, /text\/html/);
      assert.match(res.text, /Invalid return address/);
      assert.equal(res.headers['location'], undefined);
    }
    assert.equal(await t.db.getRepository(OidcLoginAttempt).count(), before);
  });

  it('answers an unknown provider with a 404 page', async () => {
    const res = await t.http.get('/api/v1/auth/oidc/nope/login');
    assert.equal(res.status, 404);
    assert.match(res.text, /Unknown sign-in provider/);
  });

  it('creates and links a new user on a first sign-in, and signs them in', async () => {
    const login = `new-${Date.now()}`;
    const email = `${login}@example.test`;
    const { res, cookies, started } = await signIn('idp', login, { returnTo: '/projects?x=1' });
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers['location'], `${TEST_PUBLIC_URL}/projects?x=1`);
    const sessionCookie = setCookieLine(res, 'gh_session') ?? '';
    assert.match(sessionCookie, /^gh_session=gths_/);
    assert.match(sessionCookie, /HttpOnly/);
    assert.match(sessionCookie, /SameSite=Lax/);
    const user = await userByEmail(t, email);
    assert.ok(user);
    assert.equal(user.emailVerified, true);
    assert.equal(user.status, 'active');
    assert.equal(user.fullName, login);
    const [identity, ...more] = await identitiesOf(user.id);
    assert.equal(more.length, 0);
    assert.ok(identity);
    assert.equal(identity.providerId, 'idp');
    assert.equal(identity.issuer, idp.issuer);
    assert.equal(identity.subject, login);
    assert.equal(identity.email, email);
    assert.ok(identity.createdAt instanceof Date);
    assert.ok(identity.lastUsedAt instanceof Date);
    const session = await t.db.getRepository(Session).findOneByOrFail({ userId: user.id });
    assert.equal(session.method, 'oidc:idp');
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Cookie', `gh_session=${cookies.get('gh_session')}`);
    assert.equal(who.status, 200);
    assert.equal(who.body.email, email);
    // The attempt was single use: the same callback again is refused.
    const stateHash = createHash('sha256').update(started.state).digest('hex');
    assert.equal(await t.db.getRepository(OidcLoginAttempt).findOneBy({ stateHash }), null);
  });

  it('signs the same identity in again (by issuer and subject), regenerating the session', async () => {
    const login = `again-${Date.now()}`;
    const first = await signIn('idp', login);
    assert.equal(first.res.status, 303);
    const oldToken = first.cookies.get('gh_session') ?? '';
    const user = await userByEmail(t, `${login}@example.test`);
    assert.ok(user);
    const [before] = await identitiesOf(user.id);
    // The provider now reports another email: the identity is still found by (issuer, subject).
    idp.accounts.set(login, { email: uniqueEmail('changed'), email_verified: true });
    await new Promise((r) => setTimeout(r, 20));
    const second = await signIn('idp', login, { session: oldToken });
    assert.equal(second.res.status, 303);
    const newToken = second.cookies.get('gh_session') ?? '';
    assert.match(newToken, /^gths_/);
    assert.notEqual(newToken, oldToken);
    const [after, ...more] = await identitiesOf(user.id);
    assert.equal(more.length, 0);
    assert.ok(after && before);
    assert.equal(after.id, before.id);
    assert.ok((after.lastUsedAt?.getTime() ?? 0) > (before.lastUsedAt?.getTime() ?? 0));
    const oldWho = await t.http.get('/api/v1/auth/whoami').set('Cookie', `gh_session=${oldToken}`);
    assert.equal(oldWho.status, 401, 'the session held before sign-in is revoked');
    const newWho = await t.http.get('/api/v1/auth/whoami').set('Cookie', `gh_session=${newToken}`);
    assert.equal(newWho.status, 200);
    assert.equal(newWho.body.id, user.id);
    idp.accounts.delete(login);
  });

  it('creates a new user with an unverified email when the provider does not say the JSON true', async () => {
    for (const [i, flag] of [undefined, 'true', 1, false].entries()) {
      const login = `unverified-${i}-${Date.now()}`;
      const email = `${login}@example.test`;
      idp.accounts.set(login, { email, email_verified: flag, name: 'U' });
      const { res } = await signIn('idp', login);
      assert.equal(res.status, 303, res.text);
      const user = await userByEmail(t, email);
      assert.ok(user);
      assert.equal(user.emailVerified, false, `email_verified=${String(flag)}`);
      assert.equal((await identitiesOf(user.id)).length, 1);
    }
  });

  it('auto-links a verified local account at a trusted provider, mails the user and audits', async () => {
    const local = await makeUser(t, { emailVerified: true });
    const login = `trusted-${Date.now()}`;
    trusted.accounts.set(login, { email: local.email.toUpperCase(), email_verified: true });
    const { res } = await signIn('trusted', login);
    assert.equal(res.status, 303, res.text);
    const [identity, ...more] = await identitiesOf(local.user.id);
    assert.equal(more.length, 0);
    assert.equal(identity?.subject, login);
    assert.equal(identity?.issuer, trusted.issuer);
    assert.equal(identity?.providerId, 'trusted');
    const mail = await smtp.waitFor(local.email, /new sign-in method was linked/);
    assert.match(mail.text, /Trusted IdP/);
    const audit = await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'identity.link', targetId: local.user.id });
    assert.equal(
      (JSON.parse(audit.changes) as Record<string, unknown>)['via'],
      'verified_email_trusted_provider',
    );
    // Still the same user: no second account was made.
    assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: local.email }), 1);
  });

  it('asks for the local password before linking at an untrusted provider (confirm-link page)', async () => {
    const local = await makeUser(t, { emailVerified: true });
    const login = `confirm-${Date.now()}`;
    idp.accounts.set(login, { email: local.email, email_verified: true });
    const { res, cookies } = await signIn('idp', login, { returnTo: '/after-link' });
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers['location'], `${TEST_PUBLIC_URL}/signin/link`);
    assert.equal(cookies.get('gh_session'), undefined, 'not signed in yet');
    const linkToken = cookies.get('gh_link') ?? '';
    assert.match(
      setCookieLine(res, 'gh_link') ?? '',
      /HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/,
    );
    assert.equal((await identitiesOf(local.user.id)).length, 0);
    const pendingRow = await t.db
      .getRepository(OidcPendingLink)
      .findOneByOrFail({ userId: local.user.id });
    assert.ok(pendingRow.expiresAt.getTime() - Date.now() <= 10 * 60_000);

    const page = await t.http.get('/signin/link').set('Cookie', `gh_link=${linkToken}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Link your Test &lt;IdP&gt; sign-in/);
    assert.ok(!page.text.includes('Test <IdP>'), 'provider name is escaped');
    assert.ok(page.text.includes(local.email));

    const noOrigin = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${linkToken}`)
      .type('form')
      .send({ password: local.password });
    assert.equal(noOrigin.status, 403);
    assert.match(noOrigin.text, /Form sent from another site/);

    const wrong = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${linkToken}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ password: 'not the password at all' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /That password is not correct/);
    assert.equal((await identitiesOf(local.user.id)).length, 0);
    assert.equal(setCookies(wrong).get('gh_session'), undefined);

    const ok = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${linkToken}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ password: local.password });
    assert.equal(ok.status, 303, ok.text);
    assert.equal(ok.headers['location'], '/after-link');
    assert.match(setCookies(ok).get('gh_session') ?? '', /^gths_/);
    const [identity] = await identitiesOf(local.user.id);
    assert.equal(identity?.subject, login);
    assert.equal(identity?.providerId, 'idp');
    await smtp.waitFor(local.email, /new sign-in method was linked/);
    const audit = await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'identity.link', targetId: local.user.id });
    assert.equal(
      (JSON.parse(audit.changes) as Record<string, unknown>)['via'],
      'password_confirmed',
    );

    // Single use.
    const replay = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${linkToken}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ password: local.password });
    assert.equal(replay.status, 400);
    assert.match(replay.text, /linking step expired/);
    assert.equal(await t.db.getRepository(OidcPendingLink).countBy({ userId: local.user.id }), 0);

    // From now on the identity signs in directly.
    const again = await signIn('idp', login);
    assert.equal(again.res.status, 303);
    // No returnTo: the default is `/`, which sends the person on to /console or /account.
    assert.equal(again.res.headers['location'], `${TEST_PUBLIC_URL}/`);
  });

  it('drops a pending link after five wrong passwords', async () => {
    const local = await makeUser(t, { emailVerified: true });
    const login = `guess-${Date.now()}`;
    idp.accounts.set(login, { email: local.email, email_verified: true });
    const { cookies } = await signIn('idp', login);
    const linkToken = cookies.get('gh_link') ?? '';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.http
        .post('/signin/link')
        .set('Cookie', `gh_link=${linkToken}`)
        .set('Origin', t.origin)
        .type('form')
        .send({ password: `wrong password ${i}` });
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 400]);
    const ok = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${linkToken}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ password: local.password });
    assert.equal(ok.status, 400);
    assert.equal((await identitiesOf(local.user.id)).length, 0);
    const row = await t.db.getRepository(User).findOneByOrFail({ id: local.user.id });
    assert.equal(row.failedLogins, 5, 'wrong passwords count towards the account lock-out');
  });

  it('claims an unverified local account at a trusted provider: password, sessions and pending resets revoked', async () => {
    const squatter = await makeUser(t, { emailVerified: false });
    await t.http.post('/api/v1/auth/password-reset').send({ email: squatter.email }).expect(202);
    await smtp.waitFor(squatter.email, /Reset your Gatehouse password/);
    const login = `claim-${Date.now()}`;
    trusted.accounts.set(login, { email: squatter.email, email_verified: true });
    const { res } = await signIn('trusted', login);
    assert.equal(res.status, 303, res.text);
    const row = await userWithPasswordHash(t, squatter.user.id);
    assert.equal(row.passwordHash, null);
    assert.equal(row.emailVerified, true);
    const [identity] = await identitiesOf(squatter.user.id);
    assert.equal(identity?.subject, login);
    const old = await t.http.get('/api/v1/auth/whoami').set(squatter.auth);
    assert.equal(old.status, 401, "the squatter's session is revoked");
    const resets = await t.db.query(
      "SELECT COUNT(*) AS n FROM user_tokens WHERE user_id = ? AND kind = 'password_reset' AND used_at IS NULL",
      [squatter.user.id],
    );
    assert.equal(Number((resets as { n: number | string }[])[0]?.n), 0);
    const pw = await passwordLogin(t, squatter.email, squatter.password);
    assert.equal(pw.status, 401, 'the old password no longer signs in');
    await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'user.claim', targetId: squatter.user.id });
  });

  it('claims a pending account registered with the email but never activated at a trusted provider, and activates it', async () => {
    const squatter = await makeUser(t, { emailVerified: false, status: 'pending', signIn: false });
    const login = `claim-pending-${Date.now()}`;
    trusted.accounts.set(login, { email: squatter.email, email_verified: true });
    const { res } = await signIn('trusted', login);
    assert.equal(res.status, 303, res.text);
    const row = await userWithPasswordHash(t, squatter.user.id);
    assert.equal(row.status, 'active');
    assert.equal(row.emailVerified, true);
    assert.equal(row.passwordHash, null);
    const [identity] = await identitiesOf(squatter.user.id);
    assert.equal(identity?.subject, login);
    const pw = await passwordLogin(t, squatter.email, squatter.password);
    assert.equal(pw.status, 401, "the squatter's password no longer signs in");
  });

  it('never lets an untrusted provider take over an admin-created account whose email is not verified', async () => {
    const admin = await makeUser(t, { role: 'admin' });
    const email = uniqueEmail('admin-made');
    const created = await t.http
      .post('/api/v1/users')
      .set(admin.auth)
      .send({ email, password: PASSWORD, fullName: 'Made By Admin' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const userId = (created.body as { id: string }).id;
    const signedIn = await passwordLogin(t, email, PASSWORD);
    assert.equal(signedIn.status, 200);
    const session = { Authorization: `Bearer ${(signedIn.body as { token: string }).token}` };
    const key = await t.http
      .post(`/api/v1/users/${userId}/api-keys`)
      .set(session)
      .send({ name: 'kept' });
    assert.equal(key.status, 201);
    const hashBefore = (await userWithPasswordHash(t, userId)).passwordHash;
    assert.ok(hashBefore);

    const login = `untrusted-${Date.now()}`;
    idp.accounts.set(login, { email, email_verified: true });
    const before = await counts(t);
    const { res, cookies } = await signIn('idp', login);
    // The password step, as for a verified account: nothing of the account changed.
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers['location'], `${TEST_PUBLIC_URL}/signin/link`);
    assert.equal(cookies.get('gh_session'), undefined, 'not signed in');
    assert.deepEqual(await counts(t), before);
    const row = await userWithPasswordHash(t, userId);
    assert.equal(row.passwordHash, hashBefore, 'password kept');
    assert.equal(row.emailVerified, false);
    assert.equal(row.status, 'active');
    assert.equal((await identitiesOf(userId)).length, 0);
    assert.equal(
      await t.db.getRepository(AuditEntry).countBy({ action: 'user.claim', targetId: userId }),
      0,
    );
    assert.equal((await t.http.get('/api/v1/auth/whoami').set(session)).status, 200);
    const keyStill = await t.http
      .get('/api/v1/auth/whoami')
      .set({ Authorization: `Bearer ${(key.body as { key: string }).key}` });
    assert.equal(keyStill.status, 200, 'the API key still works');
    assert.equal((await passwordLogin(t, email, PASSWORD)).status, 200);

    // Only the account's password links it.
    const linkToken = cookies.get('gh_link') ?? '';
    const ok = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${linkToken}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ password: PASSWORD });
    assert.equal(ok.status, 303, ok.text);
    const [identity] = await identitiesOf(userId);
    assert.equal(identity?.subject, login);
    assert.equal((await userWithPasswordHash(t, userId)).passwordHash, hashBefore);
  });

  it('refuses an untrusted provider for an unverified pending or password-less account, changing nothing', async () => {
    const cases = [
      await makeUser(t, { emailVerified: false, status: 'pending', signIn: false }),
      await makeUser(t, { emailVerified: false, password: null, signIn: false }),
    ];
    for (const [i, local] of cases.entries()) {
      const login = `untrusted-refused-${i}-${Date.now()}`;
      idp.accounts.set(login, { email: local.email, email_verified: true });
      const hashBefore = (await userWithPasswordHash(t, local.user.id)).passwordHash;
      const before = await counts(t);
      const { res, cookies } = await signIn('idp', login);
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, i === 0 ? /This account cannot sign in/ : /Cannot confirm the link/);
      assert.equal(cookies.get('gh_session'), undefined);
      assert.deepEqual(await counts(t), before);
      const row = await userWithPasswordHash(t, local.user.id);
      assert.equal(row.status, local.user.status);
      assert.equal(row.emailVerified, false);
      assert.equal(row.passwordHash, hashBefore);
      assert.equal(await t.db.getRepository(OidcPendingLink).countBy({ userId: local.user.id }), 0);
    }
  });

  it('never links to an existing account on an unverified email, even at a trusted provider', async () => {
    for (const flag of [false, 'true', undefined]) {
      const local = await makeUser(t, { emailVerified: true });
      const login = `nolink-${String(flag)}-${Date.now()}`;
      trusted.accounts.set(login, { email: local.email, email_verified: flag });
      const before = await counts(t);
      const { res, cookies } = await signIn('trusted', login);
      assert.equal(res.status, 403, String(flag));
      assert.match(res.text, /Email address not verified by the identity provider/);
      assert.equal(cookies.get('gh_session'), undefined);
      assert.deepEqual(await counts(t), before);
    }
  });

  it('refuses when the account already has another subject at that issuer', async () => {
    const local = await makeUser(t, { emailVerified: true });
    const first = `first-${Date.now()}`;
    const second = `second-${Date.now()}`;
    trusted.accounts.set(first, { email: local.email, email_verified: true });
    trusted.accounts.set(second, { email: local.email, email_verified: true });
    assert.equal((await signIn('trusted', first)).res.status, 303);
    const before = await counts(t);
    const { res } = await signIn('trusted', second);
    assert.equal(res.status, 403);
    assert.match(res.text, /Already linked to another account at this provider/);
    assert.deepEqual(await counts(t), before);
    const ids = await identitiesOf(local.user.id);
    assert.deepEqual(
      ids.map((i) => i.subject),
      [first],
    );
  });

  it('refuses disabled and pending accounts, by email and by a linked identity', async () => {
    for (const status of ['disabled', 'pending'] as const) {
      const local = await makeUser(t, { emailVerified: true, status, signIn: false });
      const login = `${status}-${Date.now()}`;
      trusted.accounts.set(login, { email: local.email, email_verified: true });
      const before = await counts(t);
      const { res } = await signIn('trusted', login);
      assert.equal(res.status, 403);
      assert.match(res.text, /This account cannot sign in/);
      assert.deepEqual(await counts(t), before);
    }
    const login = `disable-later-${Date.now()}`;
    assert.equal((await signIn('idp', login)).res.status, 303);
    await t.db
      .getRepository(User)
      .update({ emailNormalized: `${login}@example.test` }, { status: 'disabled' });
    const before = await counts(t);
    const { res } = await signIn('idp', login);
    assert.equal(res.status, 403);
    assert.deepEqual(await counts(t), before);
  });

  it('renders the provider error without echoing its description, and spends the attempt', async () => {
    const started = await startLogin(t, 'idp');
    const res = await callback(
      t,
      `/api/v1/auth/oidc/idp/callback?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${started.state}`,
      started.binding,
    );
    assert.equal(res.status, 400);
    assert.match(res.text, /The identity provider did not sign you in/);
    assert.match(res.text, /<code>access_denied<\/code>/);
    assert.ok(!res.text.includes('<script>alert(1)'));
    assert.ok(!res.text.includes('alert(1)'));
    const stateHash = createHash('sha256').update(started.state).digest('hex');
    assert.equal(await t.db.getRepository(OidcLoginAttempt).findOneBy({ stateHash }), null);
    const odd = await callback(
      t,
      `/api/v1/auth/oidc/idp/callback?error=${encodeURIComponent('<b>x</b>')}`,
      started.binding,
    );
    assert.equal(odd.status, 400);
    assert.ok(!odd.text.includes('<b>x</b>'));
  });

  it('ends two simultaneous first sign-ins of one identity in one user and one link', async () => {
    const login = `race-${Date.now()}`;
    const a = await startLogin(t, 'idp');
    const b = await startLogin(t, 'idp');
    const backA = await idp.authorize(a.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const backB = await idp.authorize(b.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const [ra, rb] = await Promise.all([
      callback(t, backA, a.binding),
      callback(t, backB, b.binding),
    ]);
    assert.equal(ra.status, 303, ra.text);
    assert.equal(rb.status, 303, rb.text);
    const users = await t.db
      .getRepository(User)
      .findBy({ emailNormalized: `${login}@example.test` });
    assert.equal(users.length, 1);
    const links = await t.db
      .getRepository(UserIdentity)
      .findBy({ issuer: idp.issuer, subject: login });
    assert.equal(links.length, 1);
    assert.equal(links[0]?.userId, users[0]?.id);
    assert.equal(await t.db.getRepository(Session).countBy({ userId: users[0]?.id }), 2);
  });

  it('ends two simultaneous auto-links of one identity to an existing account in one link', async () => {
    const local = await makeUser(t, { emailVerified: true });
    const login = `race-link-${Date.now()}`;
    trusted.accounts.set(login, { email: local.email, email_verified: true });
    const a = await startLogin(t, 'trusted');
    const b = await startLogin(t, 'trusted');
    const backA = await trusted.authorize(a.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const backB = await trusted.authorize(b.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const [ra, rb] = await Promise.all([
      callback(t, backA, a.binding),
      callback(t, backB, b.binding),
    ]);
    assert.deepEqual([ra.status, rb.status], [303, 303]);
    assert.equal((await identitiesOf(local.user.id)).length, 1);
    assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: local.email }), 1);
  });

  it('keeps two tabs working: two attempts from one browser both complete', async () => {
    const first = await startLogin(t, 'idp');
    const second = await startLogin(t, 'idp', { binding: first.binding });
    assert.notEqual(first.state, second.state);
    const login = `tabs-${Date.now()}`;
    const backSecond = await idp.authorize(second.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const backFirst = await idp.authorize(first.authorizeUrl.href, login, TEST_PUBLIC_URL);
    assert.equal((await callback(t, backSecond, first.binding)).status, 303);
    assert.equal((await callback(t, backFirst, first.binding)).status, 303);
  });

  it('signs in with a password on the /signin page (Origin checked), and signs out', async () => {
    const local = await makeUser(t, { signIn: false });
    const page = await t.http.get('/signin').query({ returnTo: '/x?a=<b>' });
    assert.equal(page.status, 200);
    assert.match(page.text, /Sign in with Test &lt;IdP&gt;/);
    assert.ok(page.text.includes('/api/v1/auth/oidc/idp/login?returnTo=%2Fx%3Fa%3D%3Cb%3E'));
    assert.ok(!page.text.includes('<b>'));
    const csrf = await t.http
      .post('/signin')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ username: local.email, password: PASSWORD });
    assert.equal(csrf.status, 403);
    assert.equal(setCookies(csrf).get('gh_session'), undefined);
    const wrong = await t.http
      .post('/signin')
      .set('Origin', t.origin)
      .type('form')
      .send({ username: local.email, password: 'wrong wrong wrong' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /The email or password is incorrect/);
    const ok = await t.http
      .post('/signin')
      .set('Origin', t.origin)
      .type('form')
      .send({ username: local.email, password: PASSWORD, returnTo: '/x' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers['location'], '/x');
    // Without returnTo the browser goes to `/`, which sends a plain user on to /account.
    const plain = await t.http
      .post('/signin')
      .set('Origin', t.origin)
      .type('form')
      .send({ username: local.email, password: PASSWORD });
    assert.equal(plain.status, 303);
    assert.equal(plain.headers['location'], '/');
    const home = await t.http
      .get('/')
      .set('Cookie', `gh_session=${setCookies(plain).get('gh_session') ?? ''}`);
    assert.equal(home.status, 303);
    assert.equal(home.headers['location'], '/account');
    const token = setCookies(ok).get('gh_session') ?? '';
    const done = await t.http.get('/signin/done').set('Cookie', `gh_session=${token}`);
    assert.equal(done.status, 200);
    assert.ok(done.text.includes(local.email));
    const out = await t.http
      .post('/signin/signout')
      .set('Origin', t.origin)
      .set('Cookie', `gh_session=${token}`);
    assert.equal(out.status, 303);
    const after = await t.http.get('/api/v1/auth/whoami').set('Cookie', `gh_session=${token}`);
    assert.equal(after.status, 401);
  });
});
