import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session } from '#src/auth/entities/session.entity.js';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';
import { Grant } from '#src/credentials/entities/grant.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { API, auditOf, sessionsOf } from '../factories/auth.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { linkIdentity } from '../factories/identities.js';

const REAUTH = 'https://gatehouse.dev/problems/reauthentication-required';

describe('re-authentication (REAUTH_MINUTES) before sensitive changes of one’s own account', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REAUTH_MINUTES: '10' });
  });
  after(async () => {
    await t.close();
  });

  /** Makes the user's session a sign-in of 11 minutes ago. */
  async function age(u: MadeUser): Promise<string> {
    const [session] = await sessionsOf(t, u.user.id);
    await t.db
      .getRepository(Session)
      .update({ id: session!.id }, { authTime: new Date(Date.now() - 11 * 60_000) });
    return session!.id;
  }

  async function reauthenticate(u: MadeUser): Promise<void> {
    const res = await t.http
      .post(`${API}/auth/reauthenticate`)
      .set(u.auth)
      .send({ password: u.password });
    assert.equal(res.status, 204, JSON.stringify(res.body));
  }

  it('creating an API key for oneself: 401 on an old session, then 201 after re-entering the password', async () => {
    const u = await makeUser(t);
    await age(u);
    const stale = await t.http.post(`${API}/users/me/api-keys`).set(u.auth).send({ name: 'ci' });
    assert.equal(stale.status, 401);
    assert.equal(stale.body.type, REAUTH);
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: u.user.id }), 0);

    await reauthenticate(u);
    const ok = await t.http.post(`${API}/users/me/api-keys`).set(u.auth).send({ name: 'ci' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.match(ok.body.key as string, /^gtak_|^\w+_/);
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: u.user.id }), 1);
    assert.equal((await auditOf(t, u.user.id, 'session.reauthenticate')).length, 1);
  });

  it('an admin creating a key for someone else is not asked (their own account is not changed)', async () => {
    const admin = await makeUser(t, { role: 'admin' });
    const other = await makeUser(t);
    await age(admin);
    const ok = await t.http
      .post(`${API}/users/${other.user.id}/api-keys`)
      .set(admin.auth)
      .send({ name: 'for them' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: other.user.id }), 1);
  });

  it('unlinking one’s own identity: 401 on an old session, then 204 after re-entering the password', async () => {
    const u = await makeUser(t);
    const identity = await linkIdentity(
      t,
      u.user.id,
      'corp',
      'https://corp.example',
      `s-${u.user.id}`,
    );
    await age(u);
    const stale = await t.http.delete(`${API}/users/me/authentications/corp`).set(u.auth);
    assert.equal(stale.status, 401);
    assert.equal(stale.body.type, REAUTH);
    assert.equal(await t.db.getRepository(UserIdentity).countBy({ id: identity.id }), 1);

    await reauthenticate(u);
    const ok = await t.http.delete(`${API}/users/me/authentications/corp`).set(u.auth);
    assert.equal(ok.status, 204, JSON.stringify(ok.body));
    assert.equal(await t.db.getRepository(UserIdentity).countBy({ id: identity.id }), 0);
    assert.equal((await auditOf(t, u.user.id, 'identity.unlink')).length, 1);
  });

  it('creating a grant, setting one’s own password and deleting one’s own account also ask', async () => {
    const u = await makeUser(t);
    await age(u);
    const grant = await t.http.post(`${API}/users/me/grants`).set(u.auth).send({ type: 'user' });
    assert.equal(grant.status, 401);
    assert.equal(grant.body.type, REAUTH);
    assert.equal(await t.db.getRepository(Grant).countBy({ userId: u.user.id }), 0);

    const admin = await makeUser(t, { role: 'admin' });
    await makeUser(t, { role: 'admin' }); // not the last admin
    await age(admin);
    const before = (await t.db.getRepository(User).findOneByOrFail({ id: admin.user.id })).version;
    const password = await t.http
      .patch(`${API}/users/me`)
      .set(admin.auth)
      .send({ password: 'a brand new passphrase here' });
    assert.equal(password.status, 401);
    assert.equal(password.body.type, REAUTH);
    assert.equal(
      (await t.db.getRepository(User).findOneByOrFail({ id: admin.user.id })).version,
      before,
    );
    const removed = await t.http.delete(`${API}/users/${admin.user.id}`).set(admin.auth);
    assert.equal(removed.status, 401);
    assert.equal(removed.body.type, REAUTH);
    assert.equal(await t.db.getRepository(User).countBy({ id: admin.user.id }), 1);

    await reauthenticate(admin);
    await t.http.delete(`${API}/users/${admin.user.id}`).set(admin.auth).expect(204);
    assert.equal(await t.db.getRepository(User).countBy({ id: admin.user.id }), 0);
  });
});
