import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkspacesService } from '#src/tenancy/workspaces/workspaces.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { linkParam, SmtpCapture } from '../support/smtp.js';
import { PASSWORD, uniqueEmail } from '../factories/users.js';
import { API, auditOf, sessionsOf, userByEmail } from '../factories/auth.js';

describe('POST /auth/signup with SIGNUP=workspace', () => {
  let t: TestApp;
  const signedUp: string[] = [];
  let failNext = false;
  before(async () => {
    t = await createTestApp({ SIGNUP: 'workspace' });
    // The workspaces module reacts to user.signed-up; this wrapper proves when it runs, and that a
    // failing reaction undoes the signup.
    const workspaces = t.get(WorkspacesService);
    const react = workspaces.onSignedUp.bind(workspaces);
    workspaces.onSignedUp = (tx, e) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('workspace creation failed'));
      }
      signedUp.push(e.user.id);
      return react(tx, e);
    };
  });
  after(async () => t.close());

  it('makes the first user an admin and signs them in, without the signed-up hook', async () => {
    const email = uniqueEmail('first');
    const res = await t.http
      .post(`${API}/auth/signup`)
      .send({ email, password: PASSWORD, fullName: 'First' });
    assert.equal(res.status, 201);
    assert.equal(res.body.user.role, 'admin');
    assert.equal(res.body.user.status, 'active');
    assert.equal(res.body.user.passwordHash, undefined);
    assert.match(res.body.token, /^gths_/);
    assert.match(String(res.headers['set-cookie']), /gh_session=gths_/);
    const row = await userByEmail(t, email);
    assert.equal(row?.role, 'admin');
    assert.deepEqual(signedUp, []);
    const sessions = await sessionsOf(t, res.body.user.id);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.revokedAt, null);
    assert.equal((await auditOf(t, res.body.user.id, 'user.create')).length, 1);
    const who = await t.http
      .get(`${API}/auth/whoami`)
      .set('Authorization', `Bearer ${res.body.token}`);
    assert.equal(who.status, 200);
    assert.equal(who.body.role, 'admin');
  });

  it('creates later users with the user role and runs the signed-up hook for them', async () => {
    const email = uniqueEmail('later');
    const res = await t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD });
    assert.equal(res.status, 201);
    assert.equal(res.body.user.role, 'user');
    assert.deepEqual(signedUp, [res.body.user.id]);
    assert.equal((await userByEmail(t, email))?.role, 'user');
  });

  it('writes nothing when the signed-up hook fails (one transaction)', async () => {
    const email = uniqueEmail('rollback');
    failNext = true;
    const res = await t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD });
    assert.equal(res.status, 500);
    assert.equal(await userByEmail(t, email), null);
  });

  it('refuses a duplicate email with 409', async () => {
    const email = uniqueEmail('dup');
    await t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD }).expect(201);
    const res = await t.http
      .post(`${API}/auth/signup`)
      .send({ email: email.toUpperCase(), password: PASSWORD });
    assert.equal(res.status, 409);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  });

  it('names every bad field', async () => {
    const res = await t.http
      .post(`${API}/auth/signup`)
      .send({ email: 'not-an-email', password: 5, role: 'admin' });
    assert.equal(res.status, 400);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
    assert.deepEqual([...new Set(fields)], ['email', 'password', 'role']);
  });
});

describe('POST /auth/signup with SIGNUP=closed', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ SIGNUP: 'closed' });
  });
  after(async () => t.close());

  it('still lets the first user sign up as admin, then refuses everyone with 403', async () => {
    const first = await t.http
      .post(`${API}/auth/signup`)
      .send({ email: uniqueEmail('first'), password: PASSWORD });
    assert.equal(first.status, 201);
    assert.equal(first.body.user.role, 'admin');
    const email = uniqueEmail('second');
    const res = await t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD });
    assert.equal(res.status, 403);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(await userByEmail(t, email), null);
  });
});

describe('POST /auth/signup after the first user follows REGISTRATION', () => {
  it('refuses later signups with 403 when REGISTRATION=closed', async () => {
    const t = await createTestApp({ SIGNUP: 'workspace', REGISTRATION: 'closed' });
    try {
      const first = await t.http
        .post(`${API}/auth/signup`)
        .send({ email: uniqueEmail('first'), password: PASSWORD });
      assert.equal(first.status, 201);
      const email = uniqueEmail('closed');
      const res = await t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD });
      assert.equal(res.status, 403);
      assert.match(res.body.detail, /Registration is closed/);
      assert.equal(await userByEmail(t, email), null);
    } finally {
      await t.close();
    }
  });

  it('leaves a later signup pending with a mailed activation link (no session) when REGISTRATION=activation', async () => {
    const smtp = new SmtpCapture();
    const smtpUrl = await smtp.start();
    const t = await createTestApp({
      SIGNUP: 'workspace',
      REGISTRATION: 'activation',
      SMTP_URL: smtpUrl,
    });
    try {
      await t.http
        .post(`${API}/auth/signup`)
        .send({ email: uniqueEmail('first'), password: PASSWORD })
        .expect(201);
      const email = uniqueEmail('pending');
      const res = await t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD });
      assert.equal(res.status, 201);
      assert.equal(res.body.user.status, 'pending');
      assert.equal(res.body.token, null);
      assert.equal(res.body.activationRequired, true);
      assert.equal(res.headers['set-cookie'], undefined);
      assert.equal((await sessionsOf(t, res.body.user.id)).length, 0);
      const mail = await smtp.waitFor(email, /Activate your Gatehouse account/);
      const token = linkParam(mail, '/activate', 'token');
      const refused = await t.http
        .post(`${API}/auth/login`)
        .send({ username: email, password: PASSWORD });
      assert.equal(refused.status, 401);
      await t.http.post(`${API}/auth/activate`).send({ token }).expect(200);
      const row = await userByEmail(t, email);
      assert.equal(row?.status, 'active');
      assert.equal(row?.emailVerified, true);
      await t.http
        .post(`${API}/auth/login`)
        .send({ username: email, password: PASSWORD })
        .expect(200);
    } finally {
      await t.close();
      await smtp.stop();
    }
  });
});
