import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import { MfaChallenge } from '#src/auth/mfa/entities/mfa-challenge.entity.js';
import { MfaFactor } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { AuthService } from '#src/auth/auth.service.js';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/app.js';
import { SoftAuthenticator, type RequestOptions } from '../support/soft-authenticator.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { API, login, sessionsOf, userRow } from '../factories/auth.js';

async function registerPasskey(t: TestApp, u: MadeUser): Promise<SoftAuthenticator> {
  const soft = new SoftAuthenticator(TEST_PUBLIC_URL);
  const options = await t.http.post(`${API}/users/me/mfa/webauthn/options`).set(u.auth);
  assert.equal(options.status, 200, JSON.stringify(options.body));
  const res = await t.http
    .post(`${API}/users/me/mfa/webauthn`)
    .set(u.auth)
    .send({ name: 'Soft key', response: soft.create(options.body) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return soft;
}

async function firstStep(t: TestApp, u: MadeUser): Promise<string> {
  const res = await login(t, u.email, u.password);
  assert.equal(res.status, 200);
  assert.equal(res.body.mfaRequired, true);
  return res.body.mfaToken as string;
}

function secondStepOptions(t: TestApp, mfaToken: string) {
  return t.http.post(`${API}/auth/login/mfa/webauthn/options`).send({ mfaToken });
}

describe('MFA: a passkey as the second step, and passwordless passkeys (software authenticator)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ LOCKOUT_THRESHOLD: '5' });
  });
  after(async () => {
    await t.close();
  });

  it('signs in with the password then a passkey bound to the mfaToken; the session says pwd hwk mfa', async () => {
    const u = await makeUser(t);
    const soft = await registerPasskey(t, u);
    const factor = await t.db.getRepository(MfaFactor).findOneByOrFail({ userId: u.user.id });
    assert.equal(factor.credentialId, soft.id);

    const mfaToken = await firstStep(t, u);
    const sessionsBefore = (await sessionsOf(t, u.user.id)).length;
    const opts = await secondStepOptions(t, mfaToken);
    assert.equal(opts.status, 200, JSON.stringify(opts.body));
    const options = opts.body as RequestOptions;
    assert.deepEqual(
      options.allowCredentials?.map((c) => c.id),
      [soft.id],
      "only the user's passkeys",
    );
    // The challenge is bound to the login challenge; asking for options takes no attempt.
    const row = await t.db.getRepository(MfaChallenge).findOneByOrFail({
      userId: u.user.id,
      purpose: 'login',
      challenge: options.challenge,
    });
    assert.equal(row.attempts, 0);
    assert.equal(row.method, 'password');
    assert.equal((await sessionsOf(t, u.user.id)).length, sessionsBefore, 'no session yet');

    const ok = await t.http
      .post(`${API}/auth/login/mfa`)
      .send({ mfaToken, webauthn: soft.get(options) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(ok.body.token);
    assert.match(String(ok.headers['set-cookie']), /gh_session=gths_/);
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: u.user.id, amr: 'pwd hwk mfa' });
    assert.equal(session.method, 'password');
    assert.ok((await t.db.getRepository(MfaChallenge).findOneByOrFail({ id: row.id })).usedAt);
    assert.ok((await t.db.getRepository(MfaFactor).findOneByOrFail({ id: factor.id })).lastUsedAt);

    // The mfaToken is spent: no more options for it, and a second assertion is refused.
    assert.equal((await secondStepOptions(t, mfaToken)).status, 401);
    const again = await t.http
      .post(`${API}/auth/login/mfa`)
      .send({ mfaToken, webauthn: soft.get(options) });
    assert.equal(again.status, 401);
  });

  it("refuses another user's passkey, a stale challenge and a bad token; each wrong answer counts", async () => {
    const u = await makeUser(t);
    const soft = await registerPasskey(t, u);
    const other = await makeUser(t);
    const otherSoft = await registerPasskey(t, other);

    assert.equal((await secondStepOptions(t, 'gthm_not-a-token')).status, 401);
    // A user with no passkey gets no options (an empty allow list would accept any passkey).
    const totpOnly = await makeUser(t);
    const start = await t.http.post(`${API}/users/me/mfa/totp`).set(totpOnly.auth).send({});
    await t.http
      .post(`${API}/users/me/mfa/totp/confirm`)
      .set(totpOnly.auth)
      .send({
        factorId: start.body.factorId,
        code: await generate({ secret: start.body.secret as string }),
      })
      .expect(200);
    assert.equal((await secondStepOptions(t, await firstStep(t, totpOnly))).status, 401);

    const mfaToken = await firstStep(t, u);
    const first = (await secondStepOptions(t, mfaToken)).body as RequestOptions;
    // Another account's passkey answering this very challenge: refused, counted for this user.
    const foreign = await t.http
      .post(`${API}/auth/login/mfa`)
      .send({ mfaToken, webauthn: otherSoft.get(first) });
    assert.equal(foreign.status, 401);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 1);
    assert.equal((await userRow(t, other.user.id)).failedLogins, 0);

    // New options replace the bound challenge: an assertion of the old one is refused.
    const second = (await secondStepOptions(t, mfaToken)).body as RequestOptions;
    assert.notEqual(second.challenge, first.challenge);
    const stale = await t.http
      .post(`${API}/auth/login/mfa`)
      .send({ mfaToken, webauthn: soft.get(first) });
    assert.equal(stale.status, 401);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 2);

    // Same body as a wrong password: nothing tells which part failed.
    const wrongPassword = await login(t, u.email, 'not the password at all');
    assert.deepEqual(
      { ...stale.body, instance: undefined },
      { ...wrongPassword.body, instance: undefined },
    );
    await t.get(AuthService).settleFailures();
    assert.equal((await userRow(t, u.user.id)).failedLogins, 3);

    const ok = await t.http
      .post(`${API}/auth/login/mfa`)
      .send({ mfaToken, webauthn: soft.get(second) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await userRow(t, u.user.id)).failedLogins, 0);
  });

  it('passwordless sign-in needs user verification: a passkey alone is then multi-factor', async () => {
    const u = await makeUser(t);
    const soft = await registerPasskey(t, u);

    const opts = await t.http.post(`${API}/auth/login/passkey/options`);
    assert.equal(opts.status, 200);
    assert.equal(opts.body.userVerification, 'required');
    const unverified = await t.http
      .post(`${API}/auth/login/passkey`)
      .send({ response: soft.get(opts.body as RequestOptions, { userVerified: false }) });
    assert.equal(unverified.status, 401);
    assert.equal(
      await t.db.getRepository(Session).countBy({ userId: u.user.id, amr: 'hwk user' }),
      0,
    );

    const opts2 = await t.http.post(`${API}/auth/login/passkey/options`);
    const ok = await t.http
      .post(`${API}/auth/login/passkey`)
      .send({ response: soft.get(opts2.body as RequestOptions) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.user.id, u.user.id);
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: u.user.id, amr: 'hwk user' });
    assert.equal(session.method, 'passkey');
    assert.equal(session.mfaEnrolment, false);
  });
});
