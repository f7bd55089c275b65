import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Database } from '#src/database/database.service.js';
import { UsersService } from '#src/users/users.service.js';
import { User } from '#src/users/user.entity.js';
import { BcryptPool } from '#src/crypto/bcrypt-pool.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, PASSWORD, uniqueEmail } from '../factories/users.js';
import { API, login, passwordOfBytes, sessionsOf, userRow } from '../factories/auth.js';

describe('POST /auth/login', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ LOCKOUT_THRESHOLD: '1000' });
  });
  after(async () => t.close());

  it('signs in by email in any case, answering user, token, expiry and a session cookie', async () => {
    const u = await makeUser(t, { signIn: false, email: uniqueEmail('Mixed.Case') });
    const res = await login(t, u.email.toUpperCase(), u.password);
    assert.equal(res.status, 200);
    assert.equal(res.body.user.id, u.user.id);
    assert.equal(res.body.user.passwordHash, undefined);
    assert.match(res.body.token, /^gths_/);
    assert.ok(Date.parse(res.body.expiresAt) > Date.now());
    assert.equal(res.headers['cache-control'], 'no-store');
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /gh_session=gths_/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    const sessions = await sessionsOf(t, u.user.id);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.method, 'password');
    assert.notEqual(sessions[0]?.tokenHash, res.body.token, 'only the hash is stored');
  });

  it('signs in by username, case-insensitively', async () => {
    const username = `Name${Date.now()}`;
    const email = uniqueEmail('named');
    await t
      .get(Database)
      .transaction((tx) =>
        t
          .get(UsersService)
          .createUser(
            tx,
            { email, username, password: PASSWORD, status: 'active', emailVerified: true },
            null,
          ),
      );
    const res = await login(t, username.toLowerCase(), PASSWORD);
    assert.equal(res.status, 200);
    assert.equal(res.body.user.username, username);
  });

  it('gives a new session (new token) at each sign-in', async () => {
    const u = await makeUser(t);
    const again = await login(t, u.email, u.password);
    assert.equal(again.status, 200);
    assert.notEqual(again.body.token, u.token);
    assert.equal((await sessionsOf(t, u.user.id)).length, 2);
  });

  it('answers byte-identical 401s for unknown user, wrong password, pending, disabled, no password and locked', async () => {
    const active = await makeUser(t, { signIn: false });
    const pending = await makeUser(t, { status: 'pending' });
    const disabled = await makeUser(t, { status: 'disabled' });
    const noPassword = await makeUser(t, { password: null });
    const locked = await makeUser(t, { signIn: false });
    await t.db
      .getRepository(User)
      .update({ id: locked.user.id }, { lockedUntil: new Date(Date.now() + 600_000) });
    const attempts = [
      await login(t, uniqueEmail('nobody'), PASSWORD),
      await login(t, active.email, 'wrong password, long enough'),
      await login(t, pending.email, PASSWORD),
      await login(t, disabled.email, PASSWORD),
      await login(t, noPassword.email, PASSWORD),
      await login(t, locked.email, PASSWORD),
    ];
    const first = attempts[0]!;
    assert.equal(first.status, 401);
    assert.equal(first.headers['content-type'], 'application/problem+json; charset=utf-8');
    for (const res of attempts) {
      assert.equal(res.status, 401);
      assert.equal(res.text, first.text);
      assert.equal(res.headers['content-type'], first.headers['content-type']);
      assert.equal(res.headers['content-length'], first.headers['content-length']);
      assert.equal(res.headers['set-cookie'], undefined);
    }
    for (const u of [pending, disabled, noPassword, locked])
      assert.deepEqual(await sessionsOf(t, u.user.id), []);
  });

  it('refuses a password of 73 bytes whose first 72 are right (no silent truncation)', async () => {
    const pw = passwordOfBytes(72);
    const u = await makeUser(t, { password: pw, signIn: false });
    assert.equal((await login(t, u.email, `${pw}x`)).status, 401);
    assert.equal((await login(t, u.email, pw)).status, 200);
  });

  it('counts a wrong password as a failure in the database', async () => {
    const u = await makeUser(t, { signIn: false });
    await login(t, u.email, 'not the password at all').expect(401);
    await login(t, u.email.toUpperCase(), 'not the password either').expect(401);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 2);
  });

  it('names every bad field of a malformed sign-in', async () => {
    const res = await t.http.post(`${API}/auth/login`).send({ username: 7 });
    assert.equal(res.status, 400);
    const fields = new Set((res.body.errors as { field: string }[]).map((e) => e.field));
    assert.deepEqual([...fields].sort(), ['password', 'username']);
  });
});

describe('POST /auth/login cost for unknown users at BCRYPT_COST 10', () => {
  let t: TestApp;
  const compared: string[] = [];
  const original = BcryptPool.prototype.compare;
  before(async () => {
    t = await createTestApp({ BCRYPT_COST: '10', LOCKOUT_THRESHOLD: '1000' });
    // Counted at the pool, not timed: a busy machine cannot make this pass or fail.
    BcryptPool.prototype.compare = function (
      this: BcryptPool,
      password: string,
      hash: string,
      signal?: AbortSignal,
    ) {
      compared.push(hash);
      return original.call(this, password, hash, signal);
    };
  });
  after(async () => {
    BcryptPool.prototype.compare = original;
    await t.close();
  });

  async function comparisonsFor(username: string): Promise<string[]> {
    compared.length = 0;
    await login(t, username, 'wrong password, long enough').expect(401);
    return [...compared];
  }

  it('spends one bcrypt comparison of the configured cost on an unknown user, as on a known one', async () => {
    const u = await makeUser(t, { signIn: false });
    const unknown = await comparisonsFor(uniqueEmail('ghost'));
    const wrong = await comparisonsFor(u.email);
    assert.equal(unknown.length, 1, 'one comparison for an unknown user');
    assert.equal(wrong.length, 1, 'one comparison for a wrong password');
    // Same algorithm and cost: the dummy hash takes as long to compare as a real one.
    assert.equal(unknown[0]!.slice(0, 7), '$2b$10$');
    assert.equal(wrong[0]!.slice(0, 7), unknown[0]!.slice(0, 7));
  });
});
