import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserToken } from '#src/auth/entities/user-token.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { SmtpCapture, linkParam } from '../support/smtp.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import {
  API,
  auditOf,
  login,
  passwordOfBytes,
  sessionsOf,
  tokensOf,
  userRow,
} from '../factories/auth.js';

const NEW_PASSWORD = 'a brand new passphrase';

describe('password reset through a real SMTP server', () => {
  let t: TestApp;
  const smtp = new SmtpCapture();
  before(async () => {
    t = await createTestApp({ SMTP_URL: await smtp.start() });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  async function requestReset(u: MadeUser): Promise<string> {
    const before = smtp.mails.length;
    await t.http.post(`${API}/auth/password-reset`).send({ email: u.email }).expect(202);
    const mail = await smtp.waitFor(u.email, /Reset/);
    assert.ok(smtp.mails.length > before);
    return linkParam(mail, `${t.config.publicUrl}/reset-password`, 'requestId');
  }

  it('answers 202 with the same body for a known and an unknown email, mailing only the known one', async () => {
    const u = await makeUser(t, { signIn: false });
    const ghost = uniqueEmail('ghost');
    const unknown = await t.http.post(`${API}/auth/password-reset`).send({ email: ghost });
    const known = await t.http.post(`${API}/auth/password-reset`).send({ email: u.email });
    assert.equal(unknown.status, 202);
    assert.equal(known.status, 202);
    assert.equal(known.text, unknown.text);
    assert.doesNotMatch(known.text, /gtht_/, 'the request id is never returned');
    await smtp.waitFor(u.email, /Reset/);
    assert.equal(
      smtp.mails.some((m) => m.to.includes(ghost)),
      false,
    );
    const [row] = await tokensOf(t, u.user.id);
    assert.equal(row?.kind, 'password_reset');
    assert.equal(row?.usedAt, null);
    const minutes = (row.expiresAt.getTime() - Date.now()) / 60_000;
    assert.ok(minutes > 55 && minutes <= 60, `expires in ${minutes} minutes`);
  });

  it('sets the password, revokes every session, does not sign in, and works once', async () => {
    const u = await makeUser(t);
    const second = await login(t, u.email, u.password);
    const requestId = await requestReset(u);
    const [stored] = await tokensOf(t, u.user.id);
    assert.notEqual(stored?.tokenHash, requestId, 'stored hashed');

    const res = await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId, password: NEW_PASSWORD });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, u.user.id);
    assert.equal(res.body.token, undefined, 'a reset does not sign in');
    assert.equal(res.headers['set-cookie'], undefined);

    for (const token of [u.token, second.body.token as string]) {
      const who = await t.http.get(`${API}/auth/whoami`).set('Authorization', `Bearer ${token}`);
      assert.equal(who.status, 401);
    }
    const sessions = await sessionsOf(t, u.user.id);
    assert.equal(sessions.length, 2);
    assert.ok(sessions.every((s) => s.revokedAt instanceof Date));
    const [used] = await tokensOf(t, u.user.id);
    assert.ok(used?.usedAt instanceof Date);
    const audit = await auditOf(t, u.user.id, 'user.password_reset');
    assert.equal(audit.length, 1);
    assert.doesNotMatch(audit[0]!.changes, /gtht_|a brand new/);

    assert.equal((await login(t, u.email, u.password)).status, 401);
    assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);

    const again = await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId, password: 'yet another passphrase' });
    assert.equal(again.status, 400);
    assert.equal(again.body.errors[0].field, 'requestId');
  });

  it('refuses an expired request with 400 and leaves the password alone', async () => {
    const u = await makeUser(t, { signIn: false });
    const requestId = await requestReset(u);
    await t.db
      .getRepository(UserToken)
      .update({ userId: u.user.id }, { expiresAt: new Date(Date.now() - 1000) });
    const res = await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId, password: NEW_PASSWORD });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'requestId');
    assert.equal((await login(t, u.email, u.password)).status, 200);
  });

  it('refuses an unknown request with 400', async () => {
    const res = await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId: 'gtht_unknown', password: NEW_PASSWORD });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'requestId');
  });

  it('refuses a 73-byte password with 400 without using up the request; 72 bytes work', async () => {
    const u = await makeUser(t, { signIn: false });
    const requestId = await requestReset(u);
    const res = await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId, password: passwordOfBytes(73) });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'password');
    assert.equal((await tokensOf(t, u.user.id))[0]?.usedAt, null);
    const ok = await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId, password: passwordOfBytes(72) });
    assert.equal(ok.status, 200);
    assert.equal((await login(t, u.email, passwordOfBytes(72))).status, 200);
  });

  it('clears a lock-out when the reset completes', async () => {
    const u = await makeUser(t, { signIn: false });
    await t.db
      .getRepository(User)
      .update({ id: u.user.id }, { lockedUntil: new Date(Date.now() + 60_000), lockCount: 1 });
    const requestId = await requestReset(u);
    await t.http
      .post(`${API}/auth/password-reset/confirm`)
      .send({ requestId, password: NEW_PASSWORD })
      .expect(200);
    const row = await userRow(t, u.user.id);
    assert.equal(row.lockedUntil, null);
    assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);
  });
});

describe('POST /users/me/password', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  function change(token: string, body: Record<string, unknown>) {
    return t.http
      .post(`${API}/users/me/password`)
      .set('Authorization', `Bearer ${token}`)
      .send(body);
  }

  it("changes the password, revokes the other sessions and keeps the caller's", async () => {
    const u = await makeUser(t);
    const other = await login(t, u.email, u.password);
    const res = await change(u.token, {
      currentPassword: u.password,
      newPassword: NEW_PASSWORD,
      newPasswordConfirm: NEW_PASSWORD,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, u.user.id);
    const mine = await t.http.get(`${API}/auth/whoami`).set(u.auth);
    assert.equal(mine.status, 200);
    const theirs = await t.http
      .get(`${API}/auth/whoami`)
      .set('Authorization', `Bearer ${other.body.token}`);
    assert.equal(theirs.status, 401);
    const sessions = await sessionsOf(t, u.user.id);
    assert.equal(sessions.filter((s) => s.revokedAt === null).length, 1);
    assert.equal(sessions.find((s) => s.revokedAt === null)?.id, mine.body.credential.id);
    assert.equal((await auditOf(t, u.user.id, 'user.password_change')).length, 1);
    assert.equal((await login(t, u.email, u.password)).status, 401);
    assert.equal((await login(t, u.email, NEW_PASSWORD)).status, 200);
  });

  it('refuses a wrong current password with 422 and changes nothing', async () => {
    const u = await makeUser(t);
    const other = await login(t, u.email, u.password);
    const res = await change(u.token, {
      currentPassword: 'not my password at all',
      newPassword: NEW_PASSWORD,
      newPasswordConfirm: NEW_PASSWORD,
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.errors[0].field, 'currentPassword');
    assert.equal((await login(t, u.email, u.password)).status, 200);
    const whoOther = await t.http
      .get(`${API}/auth/whoami`)
      .set('Authorization', `Bearer ${other.body.token}`);
    assert.equal(whoOther.status, 200);
    assert.deepEqual(await auditOf(t, u.user.id, 'user.password_change'), []);
  });

  it('refuses a confirmation that does not match with 400', async () => {
    const u = await makeUser(t);
    const res = await change(u.token, {
      currentPassword: u.password,
      newPassword: NEW_PASSWORD,
      newPasswordConfirm: `${NEW_PASSWORD}!`,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'newPasswordConfirm');
    assert.equal((await login(t, u.email, u.password)).status, 200);
  });

  it('refuses a 73-byte new password with 400 and takes 72 bytes', async () => {
    const u = await makeUser(t);
    const long = passwordOfBytes(73);
    const res = await change(u.token, {
      currentPassword: u.password,
      newPassword: long,
      newPasswordConfirm: long,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'newPassword');
    const ok = passwordOfBytes(72);
    await change(u.token, {
      currentPassword: u.password,
      newPassword: ok,
      newPasswordConfirm: ok,
    }).expect(200);
    assert.equal((await login(t, u.email, ok)).status, 200);
  });

  it('needs a signed-in caller', async () => {
    const res = await t.http.post(`${API}/users/me/password`).send({
      currentPassword: 'x',
      newPassword: NEW_PASSWORD,
      newPasswordConfirm: NEW_PASSWORD,
    });
    assert.equal(res.status, 401);
  });
});
