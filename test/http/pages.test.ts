import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { UserToken } from '#src/auth/entities/user-token.entity.js';
import { AuthService } from '#src/auth/auth.service.js';
import { Database } from '#src/database/database.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { SmtpCapture, linkParam } from '../support/smtp.js';
import { makeUser, PASSWORD, uniqueEmail } from '../factories/users.js';
import { API, auditOf, login, tokensOf, userByEmail } from '../factories/auth.js';
import { createWorkspace } from '../factories/workspaces.js';

const EVIL = 'https://evil.example';
const NEW_PASSWORD = 'a brand new passphrase 2026';

function assertHtml(res: Response, status: number, text?: RegExp): void {
  assert.equal(res.status, status, `${res.status}: ${res.text.slice(0, 2000)}`);
  assert.match(res.headers['content-type'] ?? '', /^text\/html; charset=utf-8/);
  assert.equal(res.headers['cache-control'], 'no-store');
  if (text) assert.match(res.text, text);
}

/** The `value` attribute of the input named `name` (with attributes in any order). */
function inputOf(page: string, name: string): string | null {
  const m = new RegExp(`<input[^>]*\\bname="${name}"[^>]*>`, 's').exec(page);
  return m ? m[0] : null;
}

describe('Pages for people, REGISTRATION=activation, with a real SMTP server', () => {
  let t: TestApp;
  const smtp = new SmtpCapture();
  before(async () => {
    const url = await smtp.start();
    t = await createTestApp({ REGISTRATION: 'activation', SMTP_URL: url });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const form = (path: string, body: Record<string, string>, origin = t.origin) =>
    t.http.post(path).set('Origin', origin).type('form').send(body);

  async function issue(userId: string, kind: 'activation' | 'password_reset'): Promise<string> {
    const auth = t.get(AuthService);
    return t.get(Database).transaction((tx) => auth.issueToken(tx, userId, kind, 60));
  }

  async function tokenRow(userId: string, kind: string): Promise<UserToken> {
    const rows = (await tokensOf(t, userId)).filter((r) => r.kind === kind);
    const row = rows[rows.length - 1];
    assert.ok(row, `a ${kind} token of ${userId}`);
    return row;
  }

  describe('GET /', () => {
    it('sends a signed-out browser to /signin', async () => {
      const res = await t.http.get('/');
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/signin');
      const bad = await t.http.get('/').set('Cookie', 'gh_session=gths_not-a-session');
      assert.equal(bad.headers.location, '/signin');
    });

    it('sends an admin to /console, a plain user to /account, a workspace admin to /console', async () => {
      const admin = await makeUser(t, { role: 'admin' });
      const plain = await makeUser(t);
      const wsAdmin = await makeUser(t);
      await createWorkspace(t, wsAdmin.auth);
      for (const [u, where] of [
        [admin, '/console'],
        [plain, '/account'],
        [wsAdmin, '/console'],
      ] as const) {
        const res = await t.http.get('/').set('Cookie', `gh_session=${u.token}`);
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, where, u.email);
      }
    });
  });

  describe('/signin', () => {
    it('links to "Forgot password?" and "Create account", with labelled autocomplete fields', async () => {
      const res = await t.http.get('/signin');
      assertHtml(res, 200, /<a href="\/forgot-password">Forgot password\?<\/a>/);
      assert.match(res.text, /<a href="\/register">Create account<\/a>/);
      assert.match(inputOf(res.text, 'username') ?? '', /autocomplete="username"/);
      assert.match(inputOf(res.text, 'password') ?? '', /autocomplete="current-password"/);
      assert.match(res.text, /<label for="username">Email<\/label>/);
      assert.match(res.text, /class="wordmark"/);
    });

    it('shows only the fixed notices it knows', async () => {
      const known = await t.http.get('/signin?notice=password-reset');
      assertHtml(known, 200, /Your password has been changed/);
      const other = await t.http.get('/signin?notice=%3Cb%3Ehello');
      assertHtml(other, 200);
      assert.doesNotMatch(other.text, /hello|role="status"/);
    });
  });

  describe('/register', () => {
    it('shows the form with email, new-password fields and their labels', async () => {
      const res = await t.http.get('/register');
      assertHtml(res, 200, /Create your account/);
      assert.match(inputOf(res.text, 'email') ?? '', /autocomplete="email"/);
      assert.match(inputOf(res.text, 'password') ?? '', /autocomplete="new-password"/);
      assert.match(inputOf(res.text, 'passwordConfirm') ?? '', /autocomplete="new-password"/);
      assert.match(res.text, /<label for="password">Password<\/label>/);
    });

    it('refuses a form from another site with an HTML 403, creating no user', async () => {
      const email = uniqueEmail('csrf');
      for (const origin of [EVIL, '']) {
        const req = t.http.post('/register').type('form');
        if (origin) void req.set('Origin', origin);
        const res = await req.send({ email, password: PASSWORD, passwordConfirm: PASSWORD });
        assertHtml(res, 403, /Forms must be sent from this site/);
      }
      assert.equal(await userByEmail(t, email), null);
    });

    it('shows each refused field next to it, keeps the values but never the password', async () => {
      const res = await form('/register', {
        email: 'not-an-email',
        fullName: 'Kim <Example>',
        password: 'short',
        passwordConfirm: 'short',
      });
      assertHtml(res, 400, /Please correct the marked fields/);
      assert.match(res.text, /id="email-error">Email must be a valid email address\.</);
      assert.match(res.text, /id="password-error">Password must be at least 12 characters\.</);
      assert.match(inputOf(res.text, 'email') ?? '', /value="not-an-email"/);
      assert.match(inputOf(res.text, 'email') ?? '', /aria-invalid="true"/);
      assert.match(inputOf(res.text, 'fullName') ?? '', /value="Kim &lt;Example&gt;"/);
      assert.doesNotMatch(inputOf(res.text, 'password') ?? '', /value=/);
      assert.doesNotMatch(res.text, /short"/);

      const email = uniqueEmail('mismatch');
      const mismatch = await form('/register', {
        email,
        password: PASSWORD,
        passwordConfirm: `${PASSWORD}!`,
      });
      assertHtml(mismatch, 400, /id="passwordConfirm-error">The two passwords do not match\.</);
      assert.equal(await userByEmail(t, email), null);
    });

    it('creates a pending user and says to check the mail, whose link opens /activate', async () => {
      const email = uniqueEmail('reg');
      const res = await form('/register', {
        email,
        fullName: 'Reg Page',
        password: PASSWORD,
        passwordConfirm: PASSWORD,
      });
      assertHtml(res, 200, /Check your mail/);
      assert.match(res.text, new RegExp(`sent an activation link to ${email}`));
      const user = await userByEmail(t, email);
      assert.equal(user?.status, 'pending');
      assert.equal(user?.fullName, 'Reg Page');
      const mail = await smtp.waitFor(email, /Activate/);
      const token = linkParam(mail, `${t.config.publicUrl}/activate?token=`, 'token');
      assert.ok(token.startsWith('gtht_'));

      const dup = await form('/register', { email, password: PASSWORD, passwordConfirm: PASSWORD });
      assertHtml(dup, 409, /id="email-error">/);
    });
  });

  describe('/activate', () => {
    it('GET shows a button and spends nothing; POST activates; the link then says it was used', async () => {
      const email = uniqueEmail('act');
      await form('/register', { email, password: PASSWORD, passwordConfirm: PASSWORD });
      const mail = await smtp.waitFor(email, /Activate/);
      const token = linkParam(mail, '/activate', 'token');
      const user = await userByEmail(t, email);
      assert.ok(user);

      // A mail scanner opening the link twice changes nothing.
      for (let i = 0; i < 2; i += 1) {
        const page = await t.http.get(`/activate?token=${encodeURIComponent(token)}`);
        assertHtml(page, 200, /Activate your account/);
        assert.match(page.text, /<button type="submit">Activate account<\/button>/);
        assert.equal(inputOf(page.text, 'password'), null, 'no password asked: it has one');
      }
      assert.equal((await tokenRow(user.id, 'activation')).usedAt, null);
      assert.equal((await userByEmail(t, email))?.status, 'pending');

      const cross = await form('/activate', { token }, EVIL);
      assertHtml(cross, 403);
      assert.equal((await userByEmail(t, email))?.status, 'pending');

      const res = await form('/activate', { token });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/signin?notice=activated');
      const active = await userByEmail(t, email);
      assert.equal(active?.status, 'active');
      assert.equal(active?.emailVerified, true);
      assert.notEqual((await tokenRow(user.id, 'activation')).usedAt, null);
      assert.equal((await login(t, email, PASSWORD)).status, 200);
      assert.equal((await auditOf(t, user.id, 'user.activate')).length, 1);

      const again = await t.http.get(`/activate?token=${encodeURIComponent(token)}`);
      assertHtml(again, 410, /This link has already been used/);
      assert.match(again.text, /action="\/activate\/resend"/);
      const post = await form('/activate', { token });
      assertHtml(post, 410, /already been used/);
    });

    it('says an unknown link is not valid (400) and an old one has expired (410)', async () => {
      const unknown = await t.http.get('/activate?token=gtht_nothing-like-it');
      assertHtml(unknown, 400, /This link is not valid/);
      const none = await t.http.get('/activate');
      assertHtml(none, 400, /This link is not valid/);
      const u = await makeUser(t, { status: 'pending', signIn: false });
      const token = await issue(u.user.id, 'activation');
      await t.db
        .getRepository(UserToken)
        .update({ userId: u.user.id }, { expiresAt: new Date(Date.now() - 60_000) });
      const expired = await t.http.get(`/activate?token=${token}`);
      assertHtml(expired, 410, /This link has expired/);
      const post = await form('/activate', { token });
      assertHtml(post, 410, /expired/);
      assert.equal((await userByEmail(t, u.email))?.status, 'pending');
    });

    it('sends a new link to a pending account from the expired-link page, and the same answer to anyone', async () => {
      const u = await makeUser(t, { status: 'pending', signIn: false });
      const res = await form('/activate/resend', { email: u.email });
      assertHtml(res, 200, /Check your mail/);
      const mail = await smtp.waitFor(u.email, /Activate/);
      const token = linkParam(mail, `${t.config.publicUrl}/activate?token=`, 'token');
      assert.equal((await tokenRow(u.user.id, 'activation')).usedAt, null);
      const page = await t.http.get(`/activate?token=${encodeURIComponent(token)}`);
      assertHtml(page, 200, new RegExp(u.email.replace(/[.]/g, '\\.')));

      const stranger = await form('/activate/resend', { email: uniqueEmail('nobody') });
      assertHtml(stranger, 200, /Check your mail/);
      const bad = await form('/activate/resend', { email: 'nope' });
      assertHtml(bad, 400, /Email must be a valid email address/);
    });

    it('asks an account without a password for one under the policy before it is active', async () => {
      const u = await makeUser(t, { status: 'pending', password: null, signIn: false });
      const token = await issue(u.user.id, 'activation');
      const page = await t.http.get(`/activate?token=${token}`);
      assertHtml(page, 200, /Choose a password/);
      assert.match(inputOf(page.text, 'password') ?? '', /autocomplete="new-password"/);

      const short = await form('/activate', { token, password: 'short', passwordConfirm: 'short' });
      assertHtml(short, 422, /Password must be at least 12 characters/);
      const differ = await form('/activate', {
        token,
        password: NEW_PASSWORD,
        passwordConfirm: 'something else entirely',
      });
      assertHtml(differ, 400, /The two passwords do not match/);
      assert.equal((await userByEmail(t, u.email))?.status, 'pending');
      assert.equal((await tokenRow(u.user.id, 'activation')).usedAt, null);

      const res = await form('/activate', {
        token,
        password: NEW_PASSWORD,
        passwordConfirm: NEW_PASSWORD,
      });
      assert.equal(res.status, 303);
      assert.equal((await userByEmail(t, u.email))?.status, 'active');
      assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);
    });
  });

  it('takes an invited person (added to a workspace by email) from the mailed link to a password and an active account', async () => {
    const owner = await makeUser(t);
    const ws = await createWorkspace(t, owner.auth);
    const email = uniqueEmail('invited');
    const added = await t.http
      .post(`${API}/workspaces/${ws.domain}/users`)
      .set(owner.auth)
      .send({ emails: [email], role: 'user' });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const mail = await smtp.waitFor(email, /invited/);
    const token = linkParam(mail, `${t.config.publicUrl}/activate?token=`, 'token');
    const page = await t.http.get(`/activate?token=${encodeURIComponent(token)}`);
    assertHtml(page, 200, /Choose a password/);
    const res = await form('/activate', {
      token,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    assert.equal(res.status, 303);
    assert.equal((await userByEmail(t, email))?.status, 'active');
    assert.equal((await login(t, email, NEW_PASSWORD)).status, 200);
  });

  describe('/forgot-password and /reset-password', () => {
    it('gives the same answer for a known and an unknown email, and mails the known one', async () => {
      const u = await makeUser(t, { signIn: false });
      const page = await t.http.get('/forgot-password');
      assertHtml(page, 200, /Reset your password/);
      assert.match(inputOf(page.text, 'email') ?? '', /autocomplete="email"/);
      const known = await form('/forgot-password', { email: u.email });
      const unknown = await form('/forgot-password', { email: uniqueEmail('ghost') });
      assertHtml(known, 200, /Check your mail/);
      assertHtml(unknown, 200, /Check your mail/);
      const strip = (s: string) => s.replace(/If \S+ belongs/, 'If X belongs');
      assert.equal(strip(known.text), strip(unknown.text));
      const mail = await smtp.waitFor(u.email, /Reset/);
      linkParam(mail, `${t.config.publicUrl}/reset-password?requestId=`, 'requestId');
      const bad = await form('/forgot-password', { email: 'not an email' });
      assertHtml(bad, 400, /id="email-error">Email must be a valid email address/);
      assert.match(inputOf(bad.text, 'email') ?? '', /value="not an email"/);
      const cross = await form('/forgot-password', { email: u.email }, EVIL);
      assertHtml(cross, 403);
    });

    it('sets a new password from the mailed link: old one refused, sessions ended, link spent', async () => {
      const u = await makeUser(t);
      await form('/forgot-password', { email: u.email });
      const mail = await smtp.waitFor(u.email, /Reset/);
      const requestId = linkParam(mail, '/reset-password', 'requestId');

      for (let i = 0; i < 2; i += 1) {
        const page = await t.http.get(`/reset-password?requestId=${encodeURIComponent(requestId)}`);
        assertHtml(page, 200, /Set a new password/);
        assert.match(page.text, /autocomplete="username" value="[^"]+" readonly/);
        assert.match(inputOf(page.text, 'password') ?? '', /autocomplete="new-password"/);
      }
      assert.equal((await tokenRow(u.user.id, 'password_reset')).usedAt, null);

      const short = await form('/reset-password', {
        requestId,
        password: 'short',
        passwordConfirm: 'short',
      });
      assertHtml(short, 422, /id="password-error">Password must be at least 12 characters/);
      const differ = await form('/reset-password', {
        requestId,
        password: NEW_PASSWORD,
        passwordConfirm: 'not the same at all',
      });
      assertHtml(differ, 400, /The two passwords do not match/);
      const cross = await form(
        '/reset-password',
        { requestId, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
        EVIL,
      );
      assertHtml(cross, 403);
      assert.equal((await tokenRow(u.user.id, 'password_reset')).usedAt, null);
      assert.equal((await login(t, u.email, PASSWORD)).status, 200);

      const res = await form('/reset-password', {
        requestId,
        password: NEW_PASSWORD,
        passwordConfirm: NEW_PASSWORD,
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/signin?notice=password-reset');
      assert.notEqual((await tokenRow(u.user.id, 'password_reset')).usedAt, null);
      assert.equal((await login(t, u.email, PASSWORD)).status, 401);
      assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);
      const old = await t.http.get(`${API}/auth/whoami`).set(u.auth);
      assert.equal(old.status, 401, 'the sessions from before the reset are revoked');

      const again = await t.http.get(`/reset-password?requestId=${encodeURIComponent(requestId)}`);
      assertHtml(again, 410, /This link has already been used/);
      assert.match(again.text, /href="\/forgot-password"/);
      const post = await form('/reset-password', {
        requestId,
        password: NEW_PASSWORD,
        passwordConfirm: NEW_PASSWORD,
      });
      assertHtml(post, 410, /already been used/);
    });

    it('says an unknown reset link is not valid (400) and an old one has expired (410)', async () => {
      assertHtml(
        await t.http.get('/reset-password?requestId=gtht_unknown'),
        400,
        /This link is not valid/,
      );
      assertHtml(await t.http.get('/reset-password'), 400, /This link is not valid/);
      const u = await makeUser(t, { signIn: false });
      const requestId = await issue(u.user.id, 'password_reset');
      await t.db
        .getRepository(UserToken)
        .update({ userId: u.user.id }, { expiresAt: new Date(Date.now() - 1000) });
      assertHtml(
        await t.http.get(`/reset-password?requestId=${requestId}`),
        410,
        /This link has expired/,
      );
      const post = await form('/reset-password', {
        requestId,
        password: NEW_PASSWORD,
        passwordConfirm: NEW_PASSWORD,
      });
      assertHtml(post, 410, /expired/);
      assert.equal((await login(t, u.email, PASSWORD)).status, 200);
    });
  });

  describe('error pages', () => {
    it('answers an unknown page with an HTML 404, never a framework page', async () => {
      for (const path of ['/no-such-page', '/account-settings/x', '/register/extra']) {
        const res = await t.http.get(path);
        assertHtml(res, 404, /Page not found/);
        assert.doesNotMatch(res.text, /Cannot GET/);
        assert.match(res.text, /href="\/"/);
      }
      const post = await t.http.post('/no-such-page').set('Origin', t.origin);
      assertHtml(post, 404, /Page not found/);
    });

    it('keeps problem+json under /api and JSON-ish answers under /.well-known', async () => {
      const api = await t.http.get(`${API}/no-such-route`);
      assert.equal(api.status, 404);
      assert.equal(api.headers['content-type'], 'application/problem+json; charset=utf-8');
      const wk = await t.http.get('/.well-known/no-such-thing');
      assert.equal(wk.status, 404);
      assert.doesNotMatch(wk.headers['content-type'] ?? '', /html/);
    });
  });
});

describe('Pages with REGISTRATION=closed', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REGISTRATION: 'closed' });
  });
  after(async () => t.close());

  it('offers no "Create account" and answers /register with a page saying it is closed', async () => {
    const signin = await t.http.get('/signin');
    assertHtml(signin, 200, /Forgot password\?/);
    assert.doesNotMatch(signin.text, /Create account/);
    assertHtml(await t.http.get('/register'), 403, /Registration is closed/);
    const email = uniqueEmail('closed');
    const res = await t.http
      .post('/register')
      .set('Origin', t.origin)
      .type('form')
      .send({ email, password: PASSWORD, passwordConfirm: PASSWORD });
    assertHtml(res, 403, /Registration is closed/);
    assert.equal(await userByEmail(t, email), null);
  });
});

describe('Pages with REGISTRATION=open', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REGISTRATION: 'open' });
  });
  after(async () => t.close());

  it('creates an active account and sends to /signin with a notice', async () => {
    const email = uniqueEmail('open');
    const res = await t.http
      .post('/register')
      .set('Origin', t.origin)
      .type('form')
      .send({ email, password: PASSWORD, passwordConfirm: PASSWORD });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/signin?notice=registered');
    assert.equal((await userByEmail(t, email))?.status, 'active');
    assert.equal((await login(t, email, PASSWORD)).status, 200);
  });
});
