import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserToken } from '#src/auth/entities/user-token.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { SmtpCapture, linkParam } from '../support/smtp.js';
import { PASSWORD, uniqueEmail } from '../factories/users.js';
import {
  API,
  auditOf,
  login,
  passwordOfBytes,
  tokensOf,
  userByEmail,
  userRow,
} from '../factories/auth.js';

describe('POST /auth/register with REGISTRATION=activation and a real SMTP server', () => {
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

  async function registerAndMail(email: string): Promise<{ id: string; token: string }> {
    const res = await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD });
    assert.equal(res.status, 201);
    const mail = await smtp.waitFor(email, /Activate/);
    return { id: res.body.id as string, token: linkParam(mail, '/activate', 'token') };
  }

  it('creates a pending user, mails a link, and activates from the link token', async () => {
    const email = uniqueEmail('pending');
    const res = await t.http
      .post(`${API}/auth/register`)
      .send({ email, password: PASSWORD, fullName: 'Pat Pending' });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'pending');
    assert.equal(res.body.emailVerified, false);
    assert.equal(res.body.token, undefined, 'the activation token is only mailed');
    const mail = await smtp.waitFor(email, /Activate/);
    const token = linkParam(mail, `${t.config.publicUrl}/activate`, 'token');
    const [stored] = await tokensOf(t, res.body.id);
    assert.equal(stored?.kind, 'activation');
    assert.notEqual(stored?.tokenHash, token, 'only the hash is stored');
    assert.equal(stored?.usedAt, null);

    // Pending: the same 401 as a wrong password.
    const early = await login(t, email, PASSWORD);
    assert.equal(early.status, 401);

    const act = await t.http.post(`${API}/auth/activate`).send({ token });
    assert.equal(act.status, 200);
    assert.equal(act.body.status, 'active');
    assert.equal(act.body.emailVerified, true);
    const row = await userByEmail(t, email);
    assert.equal(row?.status, 'active');
    assert.equal(row?.emailVerified, true);
    const [used] = await tokensOf(t, res.body.id);
    assert.ok(used?.usedAt instanceof Date);
    const audit = await auditOf(t, res.body.id, 'user.activate');
    assert.equal(audit.length, 1);
    assert.doesNotMatch(audit[0]?.changes ?? '', /gtht_/);

    assert.equal((await login(t, email, PASSWORD)).status, 200);
  });

  it('refuses an unknown token with 400 naming token', async () => {
    const res = await t.http.post(`${API}/auth/activate`).send({ token: 'gtht_nonsense' });
    assert.equal(res.status, 400);
    assert.deepEqual(
      (res.body.errors as { field: string }[]).map((e) => e.field),
      ['token'],
    );
  });

  it('refuses a used token with 400 naming token', async () => {
    const { token } = await registerAndMail(uniqueEmail('twice'));
    await t.http.post(`${API}/auth/activate`).send({ token }).expect(200);
    const res = await t.http.post(`${API}/auth/activate`).send({ token });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'token');
  });

  it('refuses an expired token with 400 and leaves the user pending', async () => {
    const { id, token } = await registerAndMail(uniqueEmail('expired'));
    await t.db
      .getRepository(UserToken)
      .update({ userId: id }, { expiresAt: new Date(Date.now() - 1000) });
    const res = await t.http.post(`${API}/auth/activate`).send({ token });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'token');
    const [stored] = await tokensOf(t, id);
    assert.equal(stored?.usedAt, null);
    assert.equal((await userRow(t, id)).status, 'pending');
  });

  it('refuses a duplicate email, in any case, with 409', async () => {
    const email = uniqueEmail('dup');
    await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD }).expect(201);
    const res = await t.http
      .post(`${API}/auth/register`)
      .send({ email: email.toUpperCase(), password: PASSWORD });
    assert.equal(res.status, 409);
  });

  it('refuses a 73-byte password with 400 and accepts 72 bytes', async () => {
    const long = uniqueEmail('long');
    const res = await t.http
      .post(`${API}/auth/register`)
      .send({ email: long, password: passwordOfBytes(73) });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'password');
    assert.match(res.body.errors[0].message, /72 bytes/);
    assert.equal(await userByEmail(t, long), null);
    const ok = uniqueEmail('ok');
    const res2 = await t.http
      .post(`${API}/auth/register`)
      .send({ email: ok, password: passwordOfBytes(72) });
    assert.equal(res2.status, 201);
  });

  it('refuses a password the policy refuses with 422 naming the rule', async () => {
    const email = uniqueEmail('short');
    const res = await t.http.post(`${API}/auth/register`).send({ email, password: 'short' });
    assert.equal(res.status, 422);
    assert.equal(res.body.rule, 'password_too_short');
    assert.equal(res.body.errors[0].field, 'password');
    assert.equal(await userByEmail(t, email), null);
  });
});

describe('POST /auth/register with REGISTRATION=open', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REGISTRATION: 'open' });
  });
  after(async () => t.close());

  it('creates an active user who can sign in at once, with no token issued', async () => {
    const email = uniqueEmail('open');
    const res = await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'active');
    assert.equal(res.body.role, 'user');
    assert.deepEqual(await tokensOf(t, res.body.id), []);
    assert.equal((await login(t, email, PASSWORD)).status, 200);
  });
});

describe('POST /auth/register with REGISTRATION=closed', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REGISTRATION: 'closed' });
  });
  after(async () => t.close());

  it('refuses with 403 and creates nothing', async () => {
    const email = uniqueEmail('closed');
    const res = await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD });
    assert.equal(res.status, 403);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(await userByEmail(t, email), null);
  });
});

describe('GET /auth/password-policy', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ PASSWORD_MIN_LENGTH: '14' });
  });
  after(async () => t.close());

  it('describes the policy in force to anyone', async () => {
    const res = await t.http.get(`${API}/auth/password-policy`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      minLength: 14,
      maxLength: 72,
      maxBytes: 72,
      requiredClasses: [],
      breachedPasswordCheck: false,
    });
  });
});
