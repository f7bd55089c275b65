import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import { MfaFactor } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import { MfaRecoveryCode } from '#src/auth/mfa/entities/mfa-recovery-code.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { API, auditOf, login, sessionsOf, userRow } from '../factories/auth.js';
import { SmtpCapture } from '../support/smtp.js';

const PROBLEMS = 'https://gatehouse.dev/problems/';

/** The code of the time step `offset` steps from now (±1 is inside the accepted window). */
function codeAt(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

interface Enrolled {
  factorId: string;
  secret: string;
  recoveryCodes: string[];
}

async function enrolTotp(t: TestApp, u: MadeUser): Promise<Enrolled> {
  const start = await t.http.post(`${API}/users/me/mfa/totp`).set(u.auth).send({ name: 'Phone' });
  assert.equal(start.status, 201, JSON.stringify(start.body));
  const { factorId, secret } = start.body as { factorId: string; secret: string };
  const confirm = await t.http
    .post(`${API}/users/me/mfa/totp/confirm`)
    .set(u.auth)
    .send({ factorId, code: await codeAt(secret) });
  assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
  return {
    factorId,
    secret,
    recoveryCodes: (confirm.body as { recoveryCodes: string[] }).recoveryCodes,
  };
}

function loginMfa(t: TestApp, body: Record<string, string>) {
  return t.http.post(`${API}/auth/login/mfa`).send(body);
}

async function mfaToken(t: TestApp, u: MadeUser): Promise<string> {
  const res = await login(t, u.email, u.password);
  assert.equal(res.status, 200);
  assert.equal(res.body.mfaRequired, true);
  return res.body.mfaToken as string;
}

describe('MFA: TOTP, recovery codes, two-step sign-in, re-authentication', () => {
  let t: TestApp;
  const smtp = new SmtpCapture();
  before(async () => {
    t = await createTestApp({ LOCKOUT_THRESHOLD: '5', SMTP_URL: await smtp.start() });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  it('enrols TOTP with the secret sealed at rest, then signs in in two steps; a code works once', async () => {
    const u = await makeUser(t);
    const start = await t.http.post(`${API}/users/me/mfa/totp`).set(u.auth).send({ name: 'Phone' });
    assert.equal(start.status, 201);
    const { factorId, secret, otpauthUri } = start.body as Record<string, string>;
    assert.match(otpauthUri!, /^otpauth:\/\/totp\/Gatehouse:/);
    assert.ok(otpauthUri!.includes(`secret=${secret}`));
    const row = await t.db.getRepository(MfaFactor).findOneByOrFail({ id: factorId });
    assert.equal(row.confirmedAt, null);
    assert.ok(row.secret && !row.secret.includes(secret!), 'the secret is stored sealed');
    // Not in force before confirmation: sign-in stays one step, the list is empty.
    assert.deepEqual((await t.http.get(`${API}/users/me/mfa`).set(u.auth)).body.items, []);
    assert.ok((await login(t, u.email, u.password)).body.token);

    const wrong = await t.http
      .post(`${API}/users/me/mfa/totp/confirm`)
      .set(u.auth)
      .send({ factorId, code: (Number(await codeAt(secret!)) ^ 1).toString().padStart(6, '0') });
    assert.equal(wrong.status, 400);
    const confirmCode = await codeAt(secret!);
    const confirm = await t.http
      .post(`${API}/users/me/mfa/totp/confirm`)
      .set(u.auth)
      .send({ factorId, code: confirmCode });
    assert.equal(confirm.status, 200);
    const codes = (confirm.body as { recoveryCodes: string[] }).recoveryCodes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    const stored = await t.db.getRepository(MfaRecoveryCode).findBy({ userId: u.user.id });
    assert.equal(stored.length, 10);
    for (const c of codes) assert.ok(!stored.some((r) => r.codeHash.includes(c)), 'stored hashed');

    const list = await t.http.get(`${API}/users/me/mfa`).set(u.auth).expect(200);
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].type, 'totp');
    assert.equal(list.body.recoveryCodesLeft, 10);

    // The first step answers a challenge and starts no session.
    const sessionsBefore = (await sessionsOf(t, u.user.id)).length;
    const first = await login(t, u.email, u.password);
    assert.equal(first.status, 200);
    assert.equal(first.body.mfaRequired, true);
    assert.equal(first.body.token, undefined);
    assert.deepEqual(first.body.factors, [{ id: factorId, type: 'totp', name: 'Phone' }]);
    assert.equal(first.headers['set-cookie'], undefined);
    assert.equal((await sessionsOf(t, u.user.id)).length, sessionsBefore);

    // The code already spent at confirmation is refused (replay), and counts as a failure.
    const replay = await loginMfa(t, { mfaToken: first.body.mfaToken, code: confirmCode });
    assert.equal(replay.status, 401);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 1);

    const next = await codeAt(secret!, 1);
    const ok = await loginMfa(t, { mfaToken: first.body.mfaToken, code: next });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(ok.body.token);
    assert.match(String(ok.headers['set-cookie']), /gatehouse_session|session/i);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 0, 'a completed sign-in resets');
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: u.user.id, amr: 'pwd otp mfa' });
    assert.ok(session.authTime);

    // The mfaToken is spent; the code cannot be used again with a new one either.
    assert.equal((await loginMfa(t, { mfaToken: first.body.mfaToken, code: next })).status, 401);
    assert.equal((await loginMfa(t, { mfaToken: await mfaToken(t, u), code: next })).status, 401);

    const audit = await auditOf(t, u.user.id);
    const actions = audit.map((a) => a.action);
    assert.ok(actions.includes('mfa.totp.start'));
    assert.ok(actions.includes('mfa.factor.add'));
    for (const a of audit) {
      assert.ok(!a.changes.includes(secret!), 'no secret in the audit');
      for (const c of codes) assert.ok(!a.changes.includes(c), 'no recovery code in the audit');
    }
  });

  it('an mfaToken allows 3 attempts; recovery codes work once; wrong codes lock the account at both steps', async () => {
    const u = await makeUser(t);
    const { recoveryCodes } = await enrolTotp(t, u);
    const token = await mfaToken(t, u);
    for (let i = 0; i < 3; i++)
      assert.equal((await loginMfa(t, { mfaToken: token, code: '000000' })).status, 401);
    // Out of attempts: even a good recovery code is refused with this token, and is not spent.
    assert.equal(
      (await loginMfa(t, { mfaToken: token, recoveryCode: recoveryCodes[0]! })).status,
      401,
    );
    assert.equal((await userRow(t, u.user.id)).failedLogins, 3);

    const ok = await loginMfa(t, {
      mfaToken: await mfaToken(t, u),
      recoveryCode: recoveryCodes[0]!,
    });
    assert.equal(ok.status, 200);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 0);
    const used = await loginMfa(t, {
      mfaToken: await mfaToken(t, u),
      recoveryCode: recoveryCodes[0]!,
    });
    assert.equal(used.status, 401, 'a recovery code works once');
    const list = await t.http.get(`${API}/users/me/mfa`).set(u.auth).expect(200);
    assert.equal(list.body.recoveryCodesLeft, 9);

    // Wrong codes count toward LOCKOUT_THRESHOLD=5 (one counted just above).
    const body401 = used.text;
    for (let i = 0; i < 4; i++)
      assert.equal(
        (await loginMfa(t, { mfaToken: await mfaToken(t, u), code: '000000' })).status,
        401,
      );
    const row = await userRow(t, u.user.id);
    assert.ok(row.lockedUntil && row.lockedUntil > new Date(), 'locked by wrong codes');
    const locked = await login(t, u.email, u.password);
    assert.equal(locked.status, 401, 'the password step refuses a locked account');
    assert.equal(
      locked.text.replace(/"instance":"[^"]*",?/, ''),
      body401.replace(/"instance":"[^"]*",?/, ''),
    );
  });

  it('the second step refuses a locked account even with a good code', async () => {
    const u = await makeUser(t);
    const { recoveryCodes } = await enrolTotp(t, u);
    const token = await mfaToken(t, u);
    await t.db
      .getRepository('users')
      .update({ id: u.user.id }, { lockedUntil: new Date(Date.now() + 60_000) });
    assert.equal(
      (await loginMfa(t, { mfaToken: token, recoveryCode: recoveryCodes[1]! })).status,
      401,
    );
    assert.equal(await t.db.getRepository(MfaRecoveryCode).countBy({ userId: u.user.id }), 10);
  });

  it('asks for a recent sign-in before factor changes; re-authentication refreshes it', async () => {
    const u = await makeUser(t);
    const sessionId = (await sessionsOf(t, u.user.id))[0]!.id;
    await t.db
      .getRepository(Session)
      .update({ id: sessionId }, { authTime: new Date(Date.now() - 11 * 60_000) });
    const stale = await t.http.post(`${API}/users/me/mfa/totp`).set(u.auth).send({});
    assert.equal(stale.status, 401);
    assert.equal(stale.body.type, `${PROBLEMS}reauthentication-required`);
    assert.equal(await t.db.getRepository(MfaFactor).countBy({ userId: u.user.id }), 0);

    const wrong = await t.http
      .post(`${API}/auth/reauthenticate`)
      .set(u.auth)
      .send({ password: 'not the password at all' });
    assert.equal(wrong.status, 401);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 1, 'counts toward the lock-out');

    await t.http
      .post(`${API}/auth/reauthenticate`)
      .set(u.auth)
      .send({ password: u.password })
      .expect(204);
    const fresh = await t.db.getRepository(Session).findOneByOrFail({ id: sessionId });
    assert.ok(fresh.authTime!.getTime() > Date.now() - 60_000);
    assert.equal((await t.http.post(`${API}/users/me/mfa/totp`).set(u.auth).send({})).status, 201);
    assert.equal((await auditOf(t, u.user.id, 'session.reauthenticate')).length, 1);
  });

  it('an admin removes a factor (users.manage); the user is mailed; others get 403', async () => {
    const u = await makeUser(t);
    const { factorId } = await enrolTotp(t, u);
    const other = await makeUser(t);
    const refused = await t.http
      .delete(`${API}/users/${u.user.id}/mfa/${factorId}`)
      .set(other.auth);
    assert.equal(refused.status, 403);
    assert.equal(await t.db.getRepository(MfaFactor).countBy({ id: factorId }), 1);

    const admin = await makeUser(t, { role: 'admin' });
    // The admin finds the factor by listing the user's factors (others may not list them).
    assert.equal((await t.http.get(`${API}/users/${u.user.id}/mfa`).set(other.auth)).status, 403);
    const listed = await t.http.get(`${API}/users/${u.user.id}/mfa`).set(admin.auth);
    assert.equal(listed.status, 200, listed.text);
    const items = (listed.body as { items: { id: string; type: string }[] }).items;
    assert.deepEqual(
      items.map((f) => [f.id, f.type]),
      [[factorId, 'totp']],
    );
    assert.equal(listed.body.recoveryCodesLeft, 10);
    assert.ok(!JSON.stringify(listed.body).includes('secret'));
    await t.http.delete(`${API}/users/${u.user.id}/mfa/${factorId}`).set(admin.auth).expect(204);
    assert.equal(await t.db.getRepository(MfaFactor).countBy({ id: factorId }), 0);
    assert.equal(await t.db.getRepository(MfaRecoveryCode).countBy({ userId: u.user.id }), 0);
    const mail = await smtp.waitFor(u.email, /factor was removed/);
    assert.match(mail.text, /by an administrator/);
    const [entry] = await auditOf(t, u.user.id, 'mfa.factor.remove');
    assert.equal(entry?.actorId, admin.user.id);
    assert.equal(entry?.parsed['byAdmin'], true);
    // Sign-in is one step again.
    assert.ok((await login(t, u.email, u.password)).body.token);
  });

  it('the user removes their own factor with DELETE /users/me/mfa/:factorId', async () => {
    const u = await makeUser(t);
    const { factorId } = await enrolTotp(t, u);
    await t.http.delete(`${API}/users/me/mfa/${factorId}`).set(u.auth).expect(204);
    assert.equal(await t.db.getRepository(MfaFactor).countBy({ userId: u.user.id }), 0);
    await smtp.waitFor(u.email, /factor was removed/);
  });
});

describe('MFA_REQUIRED=admins', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ MFA_REQUIRED: 'admins' });
  });
  after(async () => t.close());

  it('makes an admin without a factor enrol before anything else works', async () => {
    const admin = await makeUser(t, { role: 'admin' });
    const blocked = await t.http.get(`${API}/users`).set(admin.auth);
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.type, `${PROBLEMS}mfa-enrolment-required`);
    assert.equal((await t.http.get(`${API}/users/me`).set(admin.auth)).status, 403);
    await t.http.get(`${API}/auth/whoami`).set(admin.auth).expect(200);
    const list = await t.http.get(`${API}/users/me/mfa`).set(admin.auth).expect(200);
    assert.equal(list.body.required, true);
    const [session] = await sessionsOf(t, admin.user.id);
    assert.equal(session?.mfaEnrolment, true);

    await enrolTotp(t, admin);
    await t.http.get(`${API}/users`).set(admin.auth).expect(200);
    assert.equal((await sessionsOf(t, admin.user.id))[0]?.mfaEnrolment, false);
  });

  it('leaves other users alone', async () => {
    const u = await makeUser(t);
    await t.http.get(`${API}/users/me`).set(u.auth).expect(200);
  });
});
