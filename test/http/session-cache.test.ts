import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session } from '#src/auth/entities/session.entity.js';
import { Database } from '#src/database/database.service.js';
import { UsersService } from '#src/users/users.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser } from '../factories/users.js';
import { UserEventBus } from '#src/kernel/events.js';

/** The in-process cache of session lookups must never keep a revoked session or old permissions. */
describe('session lookup cache', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  const whoami = (token: string) =>
    t.http.get('/api/v1/auth/whoami').set('Authorization', `Bearer ${token}`);

  it('refuses a session at once after it is deleted, though its lookup was cached', async () => {
    const u = await makeUser(t);
    assert.equal((await whoami(u.token)).status, 200);
    assert.equal((await whoami(u.token)).status, 200); // served from the cache
    const sid = (await whoami(u.token)).body.credential.id as string;
    await t.http.delete(`/api/v1/users/${u.user.id}/sessions/${sid}`).set(u.auth).expect(204);
    const res = await whoami(u.token);
    assert.equal(res.status, 401);
    const row = await t.db.getRepository(Session).findOneByOrFail({ id: sid });
    assert.ok(row.revokedAt);
  });

  it('refuses every session of a user at once when the user is disabled', async () => {
    const u = await makeUser(t);
    assert.equal((await whoami(u.token)).status, 200);
    const users = t.get(UsersService);
    await t.get(Database).transaction(async (tx) => {
      const fresh = await users.lockForUpdate(tx, u.user.id);
      assert.ok(fresh);
      await users.applyChanges(tx, fresh, { status: 'disabled' });
      await t.get(UserEventBus).emit(tx, 'user.disabled', { userId: u.user.id });
    });
    assert.equal((await whoami(u.token)).status, 401);
  });

  it('shows a changed server role on the next request, not after the cache expires', async () => {
    const u = await makeUser(t, { role: 'admin' });
    const before = await whoami(u.token);
    assert.ok((before.body.permissions as string[]).includes('*'));
    const users = t.get(UsersService);
    await t.get(Database).transaction(async (tx) => {
      const fresh = await users.lockForUpdate(tx, u.user.id);
      assert.ok(fresh);
      await users.applyChanges(tx, fresh, { role: 'reader' });
    });
    const afterChange = await whoami(u.token);
    assert.equal(afterChange.status, 200);
    assert.equal(afterChange.body.role, 'reader');
    assert.ok(!(afterChange.body.permissions as string[]).includes('*'));
  });

  it('keeps how the credential arrived per request (a cached header lookup does not excuse a cookie write from CSRF)', async () => {
    const u = await makeUser(t);
    assert.equal((await whoami(u.token)).status, 200); // cached, arrived by header
    const res = await t.http.post('/api/v1/auth/logout').set('Cookie', `gh_session=${u.token}`);
    assert.equal(res.status, 403);
    assert.equal((await whoami(u.token)).status, 200);
  });
});
