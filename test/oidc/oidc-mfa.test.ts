import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import { Session } from '#src/auth/entities/session.entity.js';
import { MfaChallenge } from '#src/auth/mfa/entities/mfa-challenge.entity.js';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/app.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { API, auditOf, userByEmail, userRow } from '../factories/auth.js';
import { callback, setCookies, startLogin } from '../factories/oidc.js';
import { makeUser } from '../factories/users.js';
import { createWorkspace } from '../factories/workspaces.js';
import { insertWorkspaceMember } from '../factories/rows.js';

const cb = (id: string) => `${TEST_PUBLIC_URL}/api/v1/auth/oidc/${id}/callback`;

function codeAt(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

describe('a sign-in through an upstream OpenID Connect provider asks for the local second factor', () => {
  const idp = new TestOidcProvider();
  let t: TestApp;

  before(async () => {
    await idp.start([cb('idp')]);
    t = await createTestApp({
      LOCKOUT_THRESHOLD: '5',
      OIDC_PROVIDERS: JSON.stringify([idp.providerConfig('idp', { name: 'Upstream' })]),
    });
  });
  after(async () => {
    await t.close();
    await idp.stop();
  });

  async function signIn(login: string, returnTo?: string) {
    const started = await startLogin(t, 'idp', { returnTo });
    const back = await idp.authorize(started.authorizeUrl.href, login, TEST_PUBLIC_URL);
    const res = await callback(t, back, started.binding);
    return { res, cookies: setCookies(res) };
  }

  const sessionCount = (userId: string) => t.db.getRepository(Session).countBy({ userId });

  it('a user with TOTP gets no session from the provider until the code is given; wrong codes count', async () => {
    const login = `mfa-${Date.now()}`;
    const email = `${login}@example.test`;
    // First sign-in creates and links the account; enrol TOTP with that session.
    const first = await signIn(login);
    assert.equal(first.res.status, 303, first.res.text);
    const token = first.cookies.get('gh_session') ?? '';
    assert.match(token, /^gths_/);
    const user = (await userByEmail(t, email))!;
    const auth = { Authorization: `Bearer ${token}` };
    const start = await t.http.post(`${API}/users/me/mfa/totp`).set(auth).send({});
    assert.equal(start.status, 201, JSON.stringify(start.body));
    const secret = start.body.secret as string;
    const confirm = await t.http
      .post(`${API}/users/me/mfa/totp/confirm`)
      .set(auth)
      .send({ factorId: start.body.factorId, code: await codeAt(secret) });
    assert.equal(confirm.status, 200);

    // The provider proves the first step only: the browser goes to /signin/mfa, no session.
    const before = await sessionCount(user.id);
    const second = await signIn(login, '/projects');
    assert.equal(second.res.status, 303, second.res.text);
    assert.equal(
      second.res.headers['location'],
      `${TEST_PUBLIC_URL}/signin/mfa?returnTo=%2Fprojects`,
    );
    assert.equal(second.cookies.get('gh_session'), undefined, 'no session cookie');
    const mfaCookie = second.cookies.get('gh_mfa') ?? '';
    assert.match(mfaCookie, /^gthm_/);
    assert.equal(await sessionCount(user.id), before, 'no session row');
    const challenge = await t.db
      .getRepository(MfaChallenge)
      .findOneByOrFail({ userId: user.id, purpose: 'login', method: 'oidc:idp' });
    assert.equal(challenge.amr, 'ext');
    assert.equal(challenge.expiresAt.getTime() - challenge.createdAt.getTime(), 5 * 60_000);

    const page = await t.http
      .get('/signin/mfa?returnTo=%2Fprojects')
      .set('Cookie', `gh_mfa=${mfaCookie}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Two-step sign-in/);

    // A wrong code: the page again, no session, and the failure counts toward the lock-out.
    const wrong = await t.http
      .post('/signin/mfa')
      .set('Cookie', `gh_mfa=${mfaCookie}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ code: '000000', returnTo: '/projects' });
    assert.equal(wrong.status, 401);
    assert.equal(setCookies(wrong).get('gh_session'), undefined);
    assert.equal((await userRow(t, user.id)).failedLogins, 1);
    assert.equal(await sessionCount(user.id), before);

    const ok = await t.http
      .post('/signin/mfa')
      .set('Cookie', `gh_mfa=${mfaCookie}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ code: await codeAt(secret, 1), returnTo: '/projects' });
    assert.equal(ok.status, 303, ok.text);
    assert.equal(ok.headers['location'], '/projects');
    assert.match(setCookies(ok).get('gh_session') ?? '', /^gths_/);
    assert.equal((await userRow(t, user.id)).failedLogins, 0);
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: user.id, amr: 'ext otp mfa' });
    assert.equal(session.method, 'oidc:idp');
    assert.equal(session.mfaEnrolment, false);
  });

  it('three wrong codes after a provider sign-in spend the mfaToken; wrong codes lock the account', async () => {
    const login = `lock-${Date.now()}`;
    const first = await signIn(login);
    const user = (await userByEmail(t, `${login}@example.test`))!;
    const auth = { Authorization: `Bearer ${first.cookies.get('gh_session')}` };
    const start = await t.http.post(`${API}/users/me/mfa/totp`).set(auth).send({});
    await t.http
      .post(`${API}/users/me/mfa/totp/confirm`)
      .set(auth)
      .send({ factorId: start.body.factorId, code: await codeAt(start.body.secret as string) })
      .expect(200);

    let failures = 0;
    for (const round of [1, 2]) {
      const { cookies } = await signIn(login);
      const mfaToken = cookies.get('gh_mfa') ?? '';
      for (let i = 0; i < 3 && failures < 5; i++, failures++) {
        const res = await t.http.post(`${API}/auth/login/mfa`).send({ mfaToken, code: '000000' });
        assert.equal(res.status, 401, `round ${round}`);
      }
    }
    const locked = await userRow(t, user.id);
    assert.ok(locked.lockedUntil && locked.lockedUntil > new Date(), 'locked after 5 wrong codes');
    assert.equal(await sessionCount(user.id), 1, 'only the first, pre-MFA session');
    // Locked: even the right code after a provider sign-in is refused.
    const { cookies } = await signIn(login);
    const res = await t.http.post(`${API}/auth/login/mfa`).send({
      mfaToken: cookies.get('gh_mfa'),
      code: await codeAt(start.body.secret as string, 1),
    });
    assert.equal(res.status, 401);
    assert.equal(await sessionCount(user.id), 1);
    assert.ok((await auditOf(t, user.id, 'user.lock')).length >= 1);
  });

  it('a member of a workspace with mfaRequired and no factor gets an enrolment-only session from the provider', async () => {
    const login = `enrol-${Date.now()}`;
    const first = await signIn(login);
    const user = (await userByEmail(t, `${login}@example.test`))!;
    const admin = await makeUser(t);
    const ws = await createWorkspace(t, admin.auth);
    await insertWorkspaceMember(t.db, ws.id, user.id, 'user');
    const patched = await t.http
      .patch(`${API}/workspaces/${ws.domain}`)
      .set(admin.auth)
      .send({ mfaRequired: true });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.ok(first.cookies.get('gh_session'));

    const again = await signIn(login, '/account');
    assert.equal(again.res.status, 303);
    assert.equal(again.res.headers['location'], `${TEST_PUBLIC_URL}/account`);
    const token = again.cookies.get('gh_session') ?? '';
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: user.id, mfaEnrolment: true });
    assert.equal(session.method, 'oidc:idp');
    const auth = { Authorization: `Bearer ${token}` };
    const blocked = await t.http.get(`${API}/workspaces`).set(auth);
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.type, 'https://gatehouse.dev/problems/mfa-enrolment-required');
    assert.equal((await t.http.get(`${API}/users/me/mfa`).set(auth)).body.required, true);
  });

  it('the confirm-link page (local password) also leads to the second step, not to a session', async () => {
    const local = await makeUser(t);
    const start = await t.http.post(`${API}/users/me/mfa/totp`).set(local.auth).send({});
    const secret = start.body.secret as string;
    await t.http
      .post(`${API}/users/me/mfa/totp/confirm`)
      .set(local.auth)
      .send({ factorId: start.body.factorId, code: await codeAt(secret) })
      .expect(200);
    const login = `link-${Date.now()}`;
    idp.accounts.set(login, { email: local.email, email_verified: true });
    const { res, cookies } = await signIn(login, '/after');
    assert.equal(res.headers['location'], `${TEST_PUBLIC_URL}/signin/link`);
    const before = await sessionCount(local.user.id);
    const linked = await t.http
      .post('/signin/link')
      .set('Cookie', `gh_link=${cookies.get('gh_link')}`)
      .set('Origin', t.origin)
      .type('form')
      .send({ password: local.password });
    assert.equal(linked.status, 303, linked.text);
    assert.equal(linked.headers['location'], '/signin/mfa?returnTo=%2Fafter');
    assert.equal(setCookies(linked).get('gh_session'), undefined);
    const mfaToken = setCookies(linked).get('gh_mfa') ?? '';
    assert.equal(await sessionCount(local.user.id), before);
    const ok = await t.http
      .post(`${API}/auth/login/mfa`)
      .send({ mfaToken, code: await codeAt(secret, 1) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: local.user.id, amr: 'ext otp mfa' });
    assert.equal(session.method, 'oidc:idp');
  });
});
