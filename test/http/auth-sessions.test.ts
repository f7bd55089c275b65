import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { API, auditOf, login, sessionsOf } from '../factories/auth.js';

describe('logout, whoami and the sessions routes', () => {
  let t: TestApp;
  let admin: MadeUser;
  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  function cookieOf(res: { headers: Record<string, unknown> }): string {
    return String(res.headers['set-cookie']).split(';')[0] ?? '';
  }

  describe('GET /auth/whoami', () => {
    it("answers the caller's user, role, permissions and credential", async () => {
      const u = await makeUser(t);
      const res = await t.http.get(`${API}/auth/whoami`).set(u.auth);
      assert.equal(res.status, 200);
      assert.equal(res.body.id, u.user.id);
      assert.equal(res.body.role, 'user');
      assert.ok(Array.isArray(res.body.permissions));
      assert.equal(res.body.permissions.includes('users.manage'), false);
      assert.equal(res.body.credential.kind, 'session');
      const [session] = await sessionsOf(t, u.user.id);
      assert.equal(res.body.credential.id, session?.id);
      assert.equal(res.body.passwordHash, undefined);
    });

    it('answers 401 without a caller or with a bad token', async () => {
      assert.equal((await t.http.get(`${API}/auth/whoami`)).status, 401);
      const bad = await t.http
        .get(`${API}/auth/whoami`)
        .set('Authorization', 'Bearer gths_not-a-real-token');
      assert.equal(bad.status, 401);
      assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    });
  });

  describe('POST /auth/logout', () => {
    it('revokes the session that made the request, and only it', async () => {
      const u = await makeUser(t);
      const other = await login(t, u.email, u.password);
      const res = await t.http.post(`${API}/auth/logout`).set(u.auth);
      assert.equal(res.status, 204);
      assert.match(String(res.headers['set-cookie']), /gh_session=;/);
      assert.equal((await t.http.get(`${API}/auth/whoami`).set(u.auth)).status, 401);
      const still = await t.http
        .get(`${API}/auth/whoami`)
        .set('Authorization', `Bearer ${other.body.token}`);
      assert.equal(still.status, 200);
      const sessions = await sessionsOf(t, u.user.id);
      assert.equal(sessions.filter((s) => s.revokedAt !== null).length, 1);
      assert.equal((await auditOf(t, u.user.id, 'session.revoke')).length, 1);
    });

    it('answers 401 without a caller', async () => {
      assert.equal((await t.http.post(`${API}/auth/logout`)).status, 401);
    });
  });

  describe('cookie-authenticated changes (CSRF)', () => {
    it('refuses a cookie-authenticated POST without our Origin, and takes it with', async () => {
      const u = await makeUser(t, { signIn: false });
      const signIn = await login(t, u.email, u.password).expect(200);
      const cookie = cookieOf(signIn);
      // Reading by cookie needs no Origin.
      assert.equal((await t.http.get(`${API}/auth/whoami`).set('Cookie', cookie)).status, 200);
      const none = await t.http.post(`${API}/auth/logout`).set('Cookie', cookie);
      assert.equal(none.status, 403);
      assert.equal(none.body.type, 'https://gatehouse.dev/problems/csrf-failed');
      const foreign = await t.http
        .post(`${API}/auth/logout`)
        .set('Cookie', cookie)
        .set('Origin', 'https://evil.example');
      assert.equal(foreign.status, 403);
      const [session] = await sessionsOf(t, u.user.id);
      assert.equal(session?.revokedAt, null, 'the refused requests changed nothing');
      const ok = await t.http
        .post(`${API}/auth/logout`)
        .set('Cookie', cookie)
        .set('Origin', t.origin);
      assert.equal(ok.status, 204);
      assert.ok((await sessionsOf(t, u.user.id))[0]?.revokedAt instanceof Date);
    });

    it('does not ask a bearer-token caller for an Origin', async () => {
      const u = await makeUser(t);
      assert.equal((await t.http.post(`${API}/auth/logout`).set(u.auth)).status, 204);
    });
  });

  describe('GET /users/:id/sessions and GET /users/:id/sessions/:sid', () => {
    it('lists the own sessions (by id and by me), newest first, marking the current one', async () => {
      const u = await makeUser(t);
      await login(t, u.email, u.password).expect(200);
      for (const id of [u.user.id, 'me']) {
        const res = await t.http.get(`${API}/users/${id}/sessions`).set(u.auth);
        assert.equal(res.status, 200);
        assert.equal(res.body.items.length, 2);
        assert.equal(res.body.nextCursor, null);
        assert.equal(res.body.items.filter((s: { current: boolean }) => s.current).length, 1);
        assert.equal(res.body.items[1].current, true);
        assert.equal(res.body.items[0].tokenHash, undefined);
        assert.equal(res.body.items[0].method, 'password');
      }
    });

    it('pages with limit and cursor', async () => {
      const u = await makeUser(t);
      await login(t, u.email, u.password).expect(200);
      await login(t, u.email, u.password).expect(200);
      const p1 = await t.http.get(`${API}/users/me/sessions?limit=2`).set(u.auth);
      assert.equal(p1.body.items.length, 2);
      assert.ok(p1.body.nextCursor);
      const p2 = await t.http
        .get(`${API}/users/me/sessions?limit=2&cursor=${encodeURIComponent(p1.body.nextCursor)}`)
        .set(u.auth);
      assert.equal(p2.body.items.length, 1);
      assert.equal(p2.body.nextCursor, null);
    });

    it('lets an admin read the sessions of any user, and answers 404 for an unknown user', async () => {
      const u = await makeUser(t);
      const [session] = await sessionsOf(t, u.user.id);
      const list = await t.http.get(`${API}/users/${u.user.id}/sessions`).set(admin.auth);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.items.map((s: { id: string }) => s.id),
        [session?.id],
      );
      const one = await t.http
        .get(`${API}/users/${u.user.id}/sessions/${session?.id}`)
        .set(admin.auth);
      assert.equal(one.status, 200);
      assert.equal(one.body.id, session?.id);
      assert.equal(one.body.current, false);
      const ghost = await t.http
        .get(`${API}/users/01900000-0000-7000-8000-000000000000/sessions`)
        .set(admin.auth);
      assert.equal(ghost.status, 404);
    });

    it('refuses another user with 403 and no caller with 401', async () => {
      const u = await makeUser(t);
      const other = await makeUser(t);
      const [session] = await sessionsOf(t, u.user.id);
      assert.equal(
        (await t.http.get(`${API}/users/${u.user.id}/sessions`).set(other.auth)).status,
        403,
      );
      assert.equal(
        (await t.http.get(`${API}/users/${u.user.id}/sessions/${session?.id}`).set(other.auth))
          .status,
        403,
      );
      assert.equal((await t.http.get(`${API}/users/${u.user.id}/sessions`)).status, 401);
      assert.equal(
        (await t.http.get(`${API}/users/${u.user.id}/sessions/${session?.id}`)).status,
        401,
      );
    });

    it("answers 404 for an unknown session, a revoked one, or another user's", async () => {
      const u = await makeUser(t);
      const other = await makeUser(t);
      const [otherSession] = await sessionsOf(t, other.user.id);
      const unknown = await t.http
        .get(`${API}/users/me/sessions/01900000-0000-7000-8000-000000000000`)
        .set(u.auth);
      assert.equal(unknown.status, 404);
      const foreign = await t.http.get(`${API}/users/me/sessions/${otherSession?.id}`).set(u.auth);
      assert.equal(foreign.status, 404);
    });
  });

  describe('DELETE /users/:id/sessions/:sid', () => {
    it('signs that session out at once (self)', async () => {
      const u = await makeUser(t);
      const other = await login(t, u.email, u.password);
      const sessions = await sessionsOf(t, u.user.id);
      const target = sessions[1]!;
      const res = await t.http.delete(`${API}/users/me/sessions/${target.id}`).set(u.auth);
      assert.equal(res.status, 204);
      const who = await t.http
        .get(`${API}/auth/whoami`)
        .set('Authorization', `Bearer ${other.body.token}`);
      assert.equal(who.status, 401);
      assert.equal((await t.http.get(`${API}/auth/whoami`).set(u.auth)).status, 200);
      const after = await sessionsOf(t, u.user.id);
      assert.ok(after.find((s) => s.id === target.id)?.revokedAt instanceof Date);
      const audit = await auditOf(t, u.user.id, 'session.revoke');
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actorId, u.user.id);
      assert.equal(audit[0]?.parsed.sessionId, target.id);
      const again = await t.http.delete(`${API}/users/me/sessions/${target.id}`).set(u.auth);
      assert.equal(again.status, 404);
    });

    it("lets an admin sign out another user's session", async () => {
      const u = await makeUser(t);
      const [session] = await sessionsOf(t, u.user.id);
      const res = await t.http
        .delete(`${API}/users/${u.user.id}/sessions/${session?.id}`)
        .set(admin.auth);
      assert.equal(res.status, 204);
      assert.equal((await t.http.get(`${API}/auth/whoami`).set(u.auth)).status, 401);
      const audit = await auditOf(t, u.user.id, 'session.revoke');
      assert.equal(audit[0]?.actorId, admin.user.id);
    });

    it('refuses another user with 403, no caller with 401, an unknown session with 404', async () => {
      const u = await makeUser(t);
      const other = await makeUser(t);
      const [session] = await sessionsOf(t, u.user.id);
      const path = `${API}/users/${u.user.id}/sessions/${session?.id}`;
      assert.equal((await t.http.delete(path).set(other.auth)).status, 403);
      assert.equal((await t.http.delete(path)).status, 401);
      assert.equal(
        (
          await t.http
            .delete(`${API}/users/me/sessions/01900000-0000-7000-8000-000000000000`)
            .set(u.auth)
        ).status,
        404,
      );
      assert.equal((await sessionsOf(t, u.user.id))[0]?.revokedAt, null);
      assert.equal((await t.http.get(`${API}/auth/whoami`).set(u.auth)).status, 200);
    });
  });
});
