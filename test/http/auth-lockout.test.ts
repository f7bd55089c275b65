import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthService } from '#src/auth/auth.service.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser } from '../factories/users.js';
import { auditOf, login, sessionsOf, userRow } from '../factories/auth.js';

const WRONG = 'definitely the wrong password';

describe('per-account lock-out (LOCKOUT_THRESHOLD=3)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ LOCKOUT_THRESHOLD: '3' });
  });
  after(async () => t.close());

  async function fail(email: string, times: number): Promise<string> {
    let body = '';
    for (let i = 0; i < times; i++) {
      const res = await login(t, email, WRONG);
      assert.equal(res.status, 401);
      body = res.text;
    }
    // Failures are written after their 401; tests that then edit the row directly wait for them.
    await t.get(AuthService).settleFailures();
    return body;
  }

  it('locks after 3 failures (email case variants count as one account) and refuses the right password with the same 401', async () => {
    const u = await makeUser(t, { signIn: false });
    const wrongBody = await login(t, u.email, WRONG).then((r) => r.text);
    await login(t, u.email.toUpperCase(), WRONG).expect(401);
    assert.equal((await userRow(t, u.user.id)).failedLogins, 2);
    await login(
      t,
      ` ${u.email}`.trim().replace(/^./, (c) => c.toUpperCase()),
      WRONG,
    ).expect(401);
    const row = await userRow(t, u.user.id);
    assert.ok(row.lockedUntil instanceof Date && row.lockedUntil.getTime() > Date.now());
    assert.equal(row.lockCount, 1);
    assert.equal(row.failedLogins, 0);
    const lockAudit = await auditOf(t, u.user.id, 'user.lock');
    assert.equal(lockAudit.length, 1);

    const refused = await login(t, u.email, u.password);
    assert.equal(refused.status, 401, 'never a 429: that would reveal the account');
    assert.equal(refused.text, wrongBody);
    assert.deepEqual(await sessionsOf(t, u.user.id), []);
  });

  it('makes each further lock longer', async () => {
    const u = await makeUser(t, { signIn: false });
    await fail(u.email, 3);
    const first = await userRow(t, u.user.id);
    const firstMs = first.lockedUntil!.getTime() - Date.now();
    assert.ok(firstMs > 50_000 && firstMs <= 60_000, `first lock ${firstMs} ms`);
    // The lock runs out (as time would do it); three more failures lock again, for longer.
    await t.db
      .getRepository(User)
      .update({ id: u.user.id }, { lockedUntil: new Date(Date.now() - 1000) });
    await fail(u.email, 3);
    const second = await userRow(t, u.user.id);
    const secondMs = second.lockedUntil!.getTime() - Date.now();
    assert.equal(second.lockCount, 2);
    assert.ok(secondMs > 110_000 && secondMs <= 120_000, `second lock ${secondMs} ms`);
  });

  it('does not count attempts made while locked', async () => {
    const u = await makeUser(t, { signIn: false });
    await fail(u.email, 3);
    const locked = await userRow(t, u.user.id);
    await fail(u.email, 5);
    const still = await userRow(t, u.user.id);
    assert.equal(still.lockCount, 1);
    assert.equal(still.lockedUntil?.getTime(), locked.lockedUntil?.getTime());
  });

  it('resets the count on a successful sign-in', async () => {
    const u = await makeUser(t, { signIn: false });
    await fail(u.email, 2);
    await login(t, u.email, u.password).expect(200);
    const row = await userRow(t, u.user.id);
    assert.equal(row.failedLogins, 0);
    await fail(u.email, 2);
    await login(t, u.email, u.password).expect(200);
    assert.equal((await userRow(t, u.user.id)).lockedUntil, null);
  });

  it('lets the right password in once the lock has run out, and clears the lock state', async () => {
    const u = await makeUser(t, { signIn: false });
    await fail(u.email, 3);
    await t.db
      .getRepository(User)
      .update({ id: u.user.id }, { lockedUntil: new Date(Date.now() - 1000) });
    await login(t, u.email, u.password).expect(200);
    const row = await userRow(t, u.user.id);
    assert.equal(row.lockedUntil, null);
    assert.equal(row.lockCount, 0);
    assert.equal(row.failedLogins, 0);
  });

  it('reads the lock from the database (a lock set by another instance holds here)', async () => {
    const u = await makeUser(t, { signIn: false });
    await t.db
      .getRepository(User)
      .update({ id: u.user.id }, { lockedUntil: new Date(Date.now() + 60_000), lockCount: 1 });
    assert.equal((await login(t, u.email, u.password)).status, 401);
  });
});
