import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { AuditService } from '#src/audit/audit.service.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { UserRole } from '#src/users/role.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, PASSWORD, uniqueEmail, type MadeUser } from '../factories/users.js';
import { giveRole, makeRole } from '../factories/roles.js';
import { makeApiKey } from '../factories/credentials.js';
import { setWorkspaceRole } from '../factories/workspaces.js';

const API = '/api/v1';

describe('users routes', () => {
  let t: TestApp;
  let admin: MadeUser;
  let alice: MadeUser;
  let bob: MadeUser;

  const row = (id: string) => t.db.getRepository(User).findOneBy({ id });
  const audits = (targetId: string) =>
    t.db.getRepository(AuditEntry).find({ where: { targetId }, order: { seq: 'DESC' } });
  const lastAudit = async (targetId: string) => {
    const [a] = await audits(targetId);
    assert.ok(a, `no audit entry for ${targetId}`);
    return { ...a, changes: JSON.parse(a.changes) as Record<string, unknown> };
  };

  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin', fullName: 'Ada Admin' });
    alice = await makeUser(t, { fullName: 'Alice Liddell', email: uniqueEmail('alice') });
    bob = await makeUser(t, { fullName: 'Bob Builder', email: uniqueEmail('bob') });
  });
  after(async () => t.close());

  describe('GET /users', () => {
    it('shows a workspace admin the members of their workspaces only, and refuses other users', async () => {
      const wsAdmin = await makeUser(t);
      const member = await makeUser(t);
      const stranger = await makeUser(t);
      const ws = await t.http
        .post(`${API}/workspaces`)
        .set(wsAdmin.auth)
        .send({ title: `Team ${wsAdmin.user.id}` });
      assert.equal(ws.status, 201);
      // In the workspace (the fixture completes the consent a workspace admin's add asks for).
      await setWorkspaceRole(t, wsAdmin.auth, ws.body.domain, member.user.id, 'user');
      const seen = await t.http.get(`${API}/users?limit=500`).set(wsAdmin.auth);
      assert.equal(seen.status, 200);
      assert.deepEqual(
        seen.body.items.map((u: { id: string }) => u.id).sort(),
        [wsAdmin.user.id, member.user.id].sort(),
      );
      assert.ok(!seen.body.items.some((u: { id: string }) => u.id === stranger.user.id));
      assertProblem(await t.http.get(`${API}/users`).set(member.auth), 403);
      assertProblem(await t.http.get(`${API}/users`).set(stranger.auth), 403);
    });

    it('finds users by a case-insensitive prefix of email, username or full name', async () => {
      await t.db.getRepository(User).update(
        { id: bob.user.id },
        {
          username: 'BobTheBuilder',
          usernameNormalized: 'bobthebuilder',
        },
      );
      const byEmail = await t.http
        .get(`${API}/users`)
        .query({ query: alice.email.slice(0, 8).toUpperCase() })
        .set(admin.auth);
      assert.equal(byEmail.status, 200);
      assert.deepEqual(
        byEmail.body.items.map((u: { id: string }) => u.id),
        [alice.user.id],
      );
      assert.equal(byEmail.body.nextCursor, null);
      assert.equal(byEmail.body.items[0].email, alice.email);
      assert.equal(byEmail.body.items[0].data, undefined, 'data only with include=config');
      assert.equal(byEmail.body.items[0].passwordHash, undefined);

      const byName = await t.http.get(`${API}/users?query=alice%20LID`).set(admin.auth);
      assert.deepEqual(
        byName.body.items.map((u: { id: string }) => u.id),
        [alice.user.id],
      );
      const byUsername = await t.http.get(`${API}/users?query=bobthe`).set(admin.auth);
      assert.deepEqual(
        byUsername.body.items.map((u: { id: string }) => u.id),
        [bob.user.id],
      );
      const none = await t.http.get(`${API}/users?query=zzz-nobody`).set(admin.auth);
      assert.deepEqual(none.body, { items: [], nextCursor: null });
      // LIKE wildcards in the query are literal.
      const wildcard = await t.http.get(`${API}/users?query=%25`).set(admin.auth);
      assert.deepEqual(wildcard.body.items, []);
    });

    it('finds a prefix holding LIKE wildcards or the escape character, matching them literally', async () => {
      const stem = `lit${Date.now().toString(36)}`;
      const under = await makeUser(t, { email: `${stem}_a.b@example.test` });
      await makeUser(t, { email: `${stem}xa.b@example.test` });
      const pct = await makeUser(t, { email: `${stem}%c@example.test` });
      const bang = await makeUser(t, { email: `${stem}!d@example.test` });
      const slash = await makeUser(t, { email: `${stem}\\e@example.test` });
      for (const [prefix, who] of [
        [`${stem}_`, under],
        [`${stem}%`, pct],
        [`${stem}!`, bang],
        [`${stem}\\`, slash],
      ] as const) {
        const res = await t.http.get(`${API}/users`).query({ query: prefix }).set(admin.auth);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(
          res.body.items.map((u: { id: string }) => u.id),
          [who.user.id],
          prefix,
        );
      }
    });

    it('pages with a keyset cursor and adds custom data with include=config', async () => {
      await t.db.getRepository(User).update({ id: alice.user.id }, { data: { theme: 'dark' } });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: {
          status: number;
          body: { items: { id: string; data: unknown }[]; nextCursor: string | null };
        } = await t.http
          .get(`${API}/users`)
          .query({ limit: 1, include: 'config', ...(cursor ? { cursor } : {}) })
          .set(admin.auth);
        assert.equal(res.status, 200);
        assert.ok(res.body.items.length <= 1);
        for (const u of res.body.items) {
          seen.push(u.id);
          assert.equal(typeof u.data, 'object');
          if (u.id === alice.user.id) assert.deepEqual(u.data, { theme: 'dark' });
        }
        cursor = res.body.nextCursor;
      } while (cursor);
      const count = await t.db.getRepository(User).count();
      assert.equal(seen.length, count);
      assert.equal(new Set(seen).size, count);
    });

    it('refuses a user without users.read (403) and an anonymous caller (401)', async () => {
      assertProblem(await t.http.get(`${API}/users`).set(alice.auth), 403);
      assertProblem(await t.http.get(`${API}/users`), 401);
    });

    it('lets a named role with users.read list users', async () => {
      const reader = await makeUser(t);
      await giveRole(t, reader.user.id, await makeRole(t, { permissions: ['users.read'] }));
      assert.equal((await t.http.get(`${API}/users`).set(reader.auth)).status, 200);
    });

    it('names bad query parameters', async () => {
      assertProblem(await t.http.get(`${API}/users?limit=0`).set(admin.auth), 400, 'limit');
      assertProblem(await t.http.get(`${API}/users?limit=501`).set(admin.auth), 400, 'limit');
      assertProblem(
        await t.http.get(`${API}/users?include=secrets`).set(admin.auth),
        400,
        'include',
      );
      assertProblem(await t.http.get(`${API}/users?cursor=nope`).set(admin.auth), 400, 'cursor');
      assertProblem(await t.http.get(`${API}/users?sort=email`).set(admin.auth), 400, 'sort');
    });
  });

  describe('POST /users', () => {
    it('creates an active user with an unverified email by default, audited without secrets', async () => {
      const email = uniqueEmail('made');
      const res = await t.http
        .post(`${API}/users`)
        .set(admin.auth)
        .send({ email, password: PASSWORD, fullName: 'Made By Admin' });
      assert.equal(res.status, 201);
      assert.equal(res.body.email, email);
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.role, 'user');
      assert.equal(res.body.emailVerified, false);
      assert.deepEqual(res.body.data, {});
      assert.deepEqual(res.body.roles, []);
      assert.equal(res.body.passwordHash, undefined);
      const db = await row(res.body.id);
      assert.equal(db?.status, 'active');
      assert.equal(db?.emailVerified, false);
      assert.equal(db?.fullName, 'Made By Admin');
      const a = await lastAudit(res.body.id);
      assert.equal(a.action, 'user.create');
      assert.equal(a.actorId, admin.user.id);
      assert.equal(a.changes.email, email);
      assert.doesNotMatch(JSON.stringify(a.changes), new RegExp(PASSWORD));
      assert.doesNotMatch(JSON.stringify(a.changes), /\$2[aby]\$/);
      // The password works.
      const login = await t.http
        .post(`${API}/auth/login`)
        .send({ username: email, password: PASSWORD });
      assert.equal(login.status, 200);
    });

    it('sets role, named roles and emailVerified when asked', async () => {
      const role = await makeRole(t, { permissions: ['audit.read'] });
      const email = uniqueEmail('reader');
      const res = await t.http
        .post(`${API}/users`)
        .set(admin.auth)
        .send({ email, role: 'reader', roles: [role.name], emailVerified: true });
      assert.equal(res.status, 201);
      assert.equal(res.body.role, 'reader');
      assert.deepEqual(res.body.roles, [role.name]);
      assert.equal(res.body.emailVerified, true);
      const links = await t.db.getRepository(UserRole).findBy({ userId: res.body.id });
      assert.deepEqual(
        links.map((l) => l.roleId),
        [role.id],
      );
    });

    it('refuses unknown named roles with 400 naming them, writing nothing', async () => {
      const email = uniqueEmail('ghost');
      const res = await t.http
        .post(`${API}/users`)
        .set(admin.auth)
        .send({ email, roles: ['no-such-role', 'nor-this'] });
      assertProblem(res, 400, 'roles', /no-such-role, nor-this/);
      assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: email }), 0);
    });

    it('answers 409 for a duplicate email, whatever its case', async () => {
      const res = await t.http
        .post(`${API}/users`)
        .set(admin.auth)
        .send({ email: alice.email.toUpperCase() });
      assertProblem(res, 409, 'email');
      assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: alice.email }), 1);
    });

    it('applies the password policy (422) and names bad fields (400)', async () => {
      assertProblem(
        await t.http
          .post(`${API}/users`)
          .set(admin.auth)
          .send({ email: uniqueEmail(), password: 'short' }),
        422,
        'password',
      );
      const bad = await t.http
        .post(`${API}/users`)
        .set(admin.auth)
        .send({ email: 'not-an-email', role: 'emperor', emailVerified: 'yes', status: 'disabled' });
      assertProblem(bad, 400, 'email');
      assertProblem(bad, 400, 'role');
      assertProblem(bad, 400, 'emailVerified');
      // `status` may be `active` or `pending` when an admin creates a user, never `disabled`.
      assertProblem(bad, 400, 'status');
    });

    it('refuses a plain user (403) and an anonymous caller (401)', async () => {
      const email = uniqueEmail();
      assertProblem(await t.http.post(`${API}/users`).set(alice.auth).send({ email }), 403);
      assertProblem(await t.http.post(`${API}/users`).send({ email }), 401);
      assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: email }), 0);
    });

    it('does not let a non-admin manager create an admin (no escalation)', async () => {
      const manager = await makeUser(t);
      await giveRole(t, manager.user.id, await makeRole(t, { permissions: ['users.manage'] }));
      const email = uniqueEmail('escalate');
      assertProblem(
        await t.http.post(`${API}/users`).set(manager.auth).send({ email, role: 'admin' }),
        403,
      );
      assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: email }), 0);
      const ok = await t.http.post(`${API}/users`).set(manager.auth).send({ email });
      assert.equal(ok.status, 201);
    });
  });

  describe('GET /users/:id and /users/me', () => {
    it('returns the user with custom data to self and admin', async () => {
      await t.db.getRepository(User).update({ id: bob.user.id }, { data: { shoe: 42 } });
      for (const caller of [bob, admin]) {
        const res = await t.http.get(`${API}/users/${bob.user.id}`).set(caller.auth);
        assert.equal(res.status, 200);
        assert.equal(res.body.id, bob.user.id);
        assert.deepEqual(res.body.data, { shoe: 42 });
        assert.equal(res.body.projects, undefined);
        assert.equal(res.body.passwordHash, undefined);
        assert.equal(res.body.failedLogins, undefined);
      }
      const me = await t.http.get(`${API}/users/me`).set(bob.auth);
      assert.equal(me.status, 200);
      assert.equal(me.body.id, bob.user.id);
      assert.deepEqual(me.body.data, { shoe: 42 });
    });

    it('answers /users/me as the user is now, after a change to the row and to the roles', async () => {
      const u = await makeUser(t, { fullName: 'Before' });
      const first = await t.http.get(`${API}/users/me`).set(u.auth);
      assert.equal(first.status, 200);
      assert.equal(first.body.fullName, 'Before');
      assert.deepEqual(first.body.roles, []);
      // Served again from the principal's cached row: the same answer.
      assert.deepEqual((await t.http.get(`${API}/users/me`).set(u.auth)).body, first.body);

      const patched = await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ fullName: 'After', data: { k: 1 } });
      assert.equal(patched.status, 200);
      const after = await t.http.get(`${API}/users/me`).set(u.auth);
      assert.equal(after.status, 200);
      assert.equal(after.body.fullName, 'After');
      assert.deepEqual(after.body.data, { k: 1 });
      assert.equal(after.body.version, patched.body.version);
      assert.equal((await row(u.user.id))?.fullName, 'After');

      const role = await makeRole(t);
      await giveRole(t, u.user.id, role);
      const withRole = await t.http.get(`${API}/users/me`).set(u.auth);
      assert.equal(withRole.status, 200);
      assert.deepEqual(withRole.body.roles, [role.name]);
      assert.equal(withRole.body.fullName, 'After');
    });

    it('refuses another user (403) and an anonymous caller (401); unknown id is 404', async () => {
      assertProblem(await t.http.get(`${API}/users/${bob.user.id}`).set(alice.auth), 403);
      assertProblem(await t.http.get(`${API}/users/${bob.user.id}`), 401);
      assertProblem(await t.http.get(`${API}/users/me`), 401);
      assertProblem(
        await t.http.get(`${API}/users/00000000-0000-7000-8000-000000000000`).set(admin.auth),
        404,
      );
    });

    it('adds the projects the user belongs to, with the permissions held in each', async () => {
      const owner = await makeUser(t);
      const res = await t.http
        .get(`${API}/users/${owner.user.id}?includeProjects=true`)
        .set(owner.auth);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.projects, []);
      const ws = await t.http
        .post(`${API}/workspaces`)
        .set(owner.auth)
        .send({ title: `Projects ${owner.user.id}` });
      assert.equal(ws.status, 201);
      const project = await t.http
        .post(`${API}/projects`)
        .set(owner.auth)
        .send({ name: 'Listed project', workspace: ws.body.domain });
      assert.equal(project.status, 201);
      const withProjects = await t.http.get(`${API}/users/me?includeProjects=true`).set(owner.auth);
      assert.equal(withProjects.status, 200);
      assert.equal(withProjects.body.projects.length, 1);
      assert.equal(withProjects.body.projects[0].id, project.body.id);
      assert.equal(withProjects.body.projects[0].workspaceId, ws.body.id);
      assert.ok(withProjects.body.projects[0].permissions.includes('projects.members.manage'));
      const asAdmin = await t.http
        .get(`${API}/users/${owner.user.id}?includeProjects=true`)
        .set(admin.auth);
      assert.deepEqual(asAdmin.body.projects, withProjects.body.projects);
      assertProblem(
        await t.http.get(`${API}/users/me?includeProjects=maybe`).set(alice.auth),
        400,
        'includeProjects',
      );
    });
  });

  describe('PATCH /users/:id', () => {
    it('lets self change fullName and merge data (null deletes a key), audited before/after', async () => {
      const u = await makeUser(t, { fullName: 'Old Name' });
      const first = await t.http
        .patch(`${API}/users/${u.user.id}`)
        .set(u.auth)
        .send({ fullName: 'New Name', data: { a: 1, b: { nested: true } } });
      assert.equal(first.status, 200);
      assert.equal(first.body.fullName, 'New Name');
      assert.deepEqual(first.body.data, { a: 1, b: { nested: true } });
      assert.equal(first.body.version, u.user.version + 1);
      let a = await lastAudit(u.user.id);
      assert.equal(a.action, 'user.update');
      assert.equal(a.actorId, u.user.id);
      assert.deepEqual(a.changes, {
        fullName: { from: 'Old Name', to: 'New Name' },
        data: { a: { from: null, to: 1 }, b: { from: null, to: { nested: true } } },
      });

      const second = await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ data: { b: null, c: 'x' } });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.data, { a: 1, c: 'x' });
      const db = await row(u.user.id);
      assert.deepEqual(db?.data, { a: 1, c: 'x' });
      assert.equal(db?.fullName, 'New Name');
      assert.equal(db?.fullNameNormalized, 'new name');
      a = await lastAudit(u.user.id);
      assert.deepEqual(a.changes, {
        data: { b: { from: { nested: true }, to: null }, c: { from: null, to: 'x' } },
      });
    });

    it('refuses a profile change through a key scoped to something else (403); an unscoped key may', async () => {
      const u = await makeUser(t, { fullName: 'Keyed' });
      const scoped = await makeApiKey(t, u, { scopes: ['items.read'] });
      for (const path of ['me', u.user.id]) {
        assertProblem(
          await t.http
            .patch(`${API}/users/${path}`)
            .set(scoped.auth)
            .send({ fullName: 'Changed by a scoped key', data: { k: 1 } }),
          403,
        );
      }
      let db = await row(u.user.id);
      assert.equal(db?.fullName, 'Keyed');
      assert.deepEqual(db?.data ?? {}, {});
      const plain = await makeApiKey(t, u);
      const res = await t.http
        .patch(`${API}/users/me`)
        .set(plain.auth)
        .send({ fullName: 'Changed by a plain key' });
      assert.equal(res.status, 200, res.text);
      db = await row(u.user.id);
      assert.equal(db?.fullName, 'Changed by a plain key');
    });

    it('refuses role, roles, status and password from a non-admin self (403), changing nothing', async () => {
      const u = await makeUser(t);
      for (const body of [
        { role: 'admin' },
        { roles: [] },
        { status: 'disabled' },
        { password: 'another long password' },
      ]) {
        assertProblem(
          await t.http
            .patch(`${API}/users/${u.user.id}`)
            .set(u.auth)
            .send({ fullName: 'X', ...body }),
          403,
        );
      }
      const db = await row(u.user.id);
      assert.equal(db?.role, 'user');
      assert.equal(db?.fullName, null);
      assert.equal(db?.version, u.user.version);
    });

    it('refuses another user (403) and an anonymous caller (401)', async () => {
      assertProblem(
        await t.http
          .patch(`${API}/users/${bob.user.id}`)
          .set(alice.auth)
          .send({ fullName: 'Hacked' }),
        403,
      );
      assertProblem(
        await t.http.patch(`${API}/users/${bob.user.id}`).send({ fullName: 'Hacked' }),
        401,
      );
      assertProblem(await t.http.patch(`${API}/users/me`).send({ fullName: 'Hacked' }), 401);
      assert.notEqual((await row(bob.user.id))?.fullName, 'Hacked');
    });

    it('refuses an empty change and names bad fields (400)', async () => {
      assertProblem(await t.http.patch(`${API}/users/me`).set(alice.auth).send({}), 400, 'body');
      assertProblem(
        await t.http.patch(`${API}/users/me`).set(alice.auth).send({ version: 1 }),
        400,
        'body',
      );
      const bad = await t.http
        .patch(`${API}/users/me`)
        .set(alice.auth)
        .send({ fullName: 7, data: [1, 2], status: 'pending', email: 'x@example.test' });
      assertProblem(bad, 400, 'fullName');
      assertProblem(bad, 400, 'data');
      assertProblem(bad, 400, 'status');
      assertProblem(bad, 400, 'email', /not a known field/);
      assertProblem(
        await t.http
          .patch(`${API}/users/me`)
          .set(alice.auth)
          .send({ data: { ['k'.repeat(101)]: 1 } }),
        400,
        'data',
      );
      assertProblem(
        await t.http
          .patch(`${API}/users/me`)
          .set(alice.auth)
          .send({ data: { big: 'x'.repeat(40_000) } }),
        400,
        'data',
      );
    });

    it('refuses a reader or demo account changing itself', async () => {
      const reader = await makeUser(t, { role: 'reader' });
      assertProblem(
        await t.http.patch(`${API}/users/me`).set(reader.auth).send({ fullName: 'R' }),
        403,
      );
      assert.equal((await row(reader.user.id))?.fullName, null);
    });

    it('lets an admin set role, named roles and status; disabling revokes sessions', async () => {
      const u = await makeUser(t);
      const role = await makeRole(t, { permissions: ['audit.read'] });
      const res = await t.http
        .patch(`${API}/users/${u.user.id}`)
        .set(admin.auth)
        .send({ role: 'reader', roles: [role.name] });
      assert.equal(res.status, 200);
      assert.equal(res.body.role, 'reader');
      assert.deepEqual(res.body.roles, [role.name]);
      assert.deepEqual((await lastAudit(u.user.id)).changes, {
        role: { from: 'user', to: 'reader' },
        roles: { from: [], to: [role.name] },
      });
      assert.equal(await t.db.getRepository(UserRole).countBy({ userId: u.user.id }), 1);
      // The downgrade is in force on the very next request.
      const who = await t.http.get(`${API}/auth/whoami`).set(u.auth);
      assert.equal(who.body.role, 'reader');

      const off = await t.http
        .patch(`${API}/users/${u.user.id}`)
        .set(admin.auth)
        .send({ status: 'disabled' });
      assert.equal(off.status, 200);
      assert.equal(off.body.status, 'disabled');
      assert.equal((await row(u.user.id))?.status, 'disabled');
      const sessions = await t.db.getRepository(Session).findBy({ userId: u.user.id });
      assert.ok(sessions.length > 0 && sessions.every((s) => s.revokedAt !== null));
      assertProblem(await t.http.get(`${API}/users/me`).set(u.auth), 401);
      assert.deepEqual((await lastAudit(u.user.id)).changes, {
        status: { from: 'active', to: 'disabled' },
      });
    });

    it('refuses unknown named roles with 400 naming them', async () => {
      const res = await t.http
        .patch(`${API}/users/${bob.user.id}`)
        .set(admin.auth)
        .send({ roles: ['ghost-role'] });
      assertProblem(res, 400, 'roles', /ghost-role/);
    });

    it('lets an admin set a password under the policy; old sessions end; never audited', async () => {
      const u = await makeUser(t);
      assertProblem(
        await t.http.patch(`${API}/users/${u.user.id}`).set(admin.auth).send({ password: 'short' }),
        422,
        'password',
      );
      const newPassword = 'a brand new admin-set password';
      const res = await t.http
        .patch(`${API}/users/${u.user.id}`)
        .set(admin.auth)
        .send({ password: newPassword });
      assert.equal(res.status, 200);
      assertProblem(await t.http.get(`${API}/users/me`).set(u.auth), 401);
      const login = await t.http
        .post(`${API}/auth/login`)
        .send({ username: u.email, password: newPassword });
      assert.equal(login.status, 200);
      const a = await t.db
        .getRepository(AuditEntry)
        .findOneByOrFail({ targetId: u.user.id, action: 'user.update' });
      assert.doesNotMatch(a.changes, new RegExp(newPassword));
      assert.doesNotMatch(a.changes, /\$2[aby]\$/);
      assert.deepEqual(JSON.parse(a.changes), { alsoChanged: ['password'] });
    });

    it('refuses a stale version with 409 and accepts the current one', async () => {
      const u = await makeUser(t);
      const stale = await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ fullName: 'A', version: u.user.version + 5 });
      assertProblem(stale, 409, 'version');
      assert.equal((await row(u.user.id))?.fullName, null);
      const ok = await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ fullName: 'A', version: u.user.version });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.version, u.user.version + 1);
      const again = await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ fullName: 'B', version: u.user.version });
      assertProblem(again, 409, 'version');
      assert.equal((await row(u.user.id))?.fullName, 'A');
    });

    it('does not let a non-admin manager escalate or take over an admin', async () => {
      const manager = await makeUser(t);
      await giveRole(t, manager.user.id, await makeRole(t, { permissions: ['users.manage'] }));
      assertProblem(
        await t.http.patch(`${API}/users/me`).set(manager.auth).send({ role: 'admin' }),
        403,
      );
      assertProblem(
        await t.http
          .patch(`${API}/users/${admin.user.id}`)
          .set(manager.auth)
          .send({ password: 'take over the admin account' }),
        403,
      );
      const star = await makeRole(t, { permissions: ['*'] });
      assertProblem(
        await t.http
          .patch(`${API}/users/me`)
          .set(manager.auth)
          .send({ roles: [star.name] }),
        403,
      );
      assert.equal((await row(manager.user.id))?.role, 'user');
      assert.equal(await t.db.getRepository(UserRole).countBy({ userId: manager.user.id }), 1);
      // A plain user is within reach.
      const plain = await makeUser(t);
      const ok = await t.http
        .patch(`${API}/users/${plain.user.id}`)
        .set(manager.auth)
        .send({ status: 'disabled' });
      assert.equal(ok.status, 200);
    });
  });

  describe('DELETE /users/:id', () => {
    it('deletes the user and what is only theirs; their record entries are redacted; the chain verifies', async () => {
      const u = await makeUser(t, { fullName: 'Doomed Person' });
      const role = await makeRole(t);
      await giveRole(t, u.user.id, role);
      await t.http
        .patch(`${API}/users/me`)
        .set(u.auth)
        .send({ data: { hobby: 'chess' } })
        .expect(200);
      const res = await t.http.delete(`${API}/users/${u.user.id}`).set(admin.auth);
      assert.equal(res.status, 204);
      assert.equal(await row(u.user.id), null);
      assert.equal(await t.db.getRepository(Session).countBy({ userId: u.user.id }), 0);
      assert.equal(await t.db.getRepository(UserRole).countBy({ userId: u.user.id }), 0);
      const entries = await audits(u.user.id);
      const [deletion, redaction, ...earlier] = entries;
      assert.equal(deletion?.action, 'user.delete');
      assert.equal(deletion?.actorId, admin.user.id);
      assert.equal(redaction?.action, 'audit.redact');
      assert.ok(earlier.length >= 2);
      for (const e of earlier) {
        assert.deepEqual(JSON.parse(e.changes), { redacted: true });
        assert.ok(e.redactedAt instanceof Date);
      }
      assert.doesNotMatch(entries.map((e) => e.changes).join(), /Doomed|chess|@example/);
      // What they did elsewhere keeps their id as a pseudonym.
      assert.ok((await t.db.getRepository(AuditEntry).countBy({ actorId: u.user.id })) > 0);
      assert.equal((await t.get(AuditService).verifyChain()).ok, true);
      assertProblem(await t.http.get(`${API}/users/me`).set(u.auth), 401);
      // Admins still read the (redacted) log of a deleted user.
      const log = await t.http.get(`${API}/users/${u.user.id}/log`).set(admin.auth);
      assert.equal(log.body.items[0].action, 'user.delete');
      assert.equal(log.body.items[1].action, 'audit.redact');
      assert.equal(log.body.items[2].redacted, true);
      assert.deepEqual(log.body.items[2].changes, { redacted: true });
    });

    it('answers 404 for an unknown id, or 204 with missingOk', async () => {
      const ghost = '00000000-0000-7000-8000-00000000dead';
      assertProblem(await t.http.delete(`${API}/users/${ghost}`).set(admin.auth), 404);
      assert.equal(
        (await t.http.delete(`${API}/users/${ghost}?missingOk=true`).set(admin.auth)).status,
        204,
      );
      assertProblem(
        await t.http.delete(`${API}/users/${ghost}?missingOk=perhaps`).set(admin.auth),
        400,
        'missingOk',
      );
    });

    it('refuses a plain user, even on themselves (403), and an anonymous caller (401)', async () => {
      assertProblem(await t.http.delete(`${API}/users/${bob.user.id}`).set(alice.auth), 403);
      assertProblem(await t.http.delete(`${API}/users/${alice.user.id}`).set(alice.auth), 403);
      assertProblem(await t.http.delete(`${API}/users/${bob.user.id}`), 401);
      assert.ok(await row(bob.user.id));
      assert.ok(await row(alice.user.id));
    });
  });

  describe('POST /users/:id/activate', () => {
    it('activates a pending user with a verified email, audited', async () => {
      const pending = await makeUser(t, { status: 'pending', emailVerified: false });
      const res = await t.http.post(`${API}/users/${pending.user.id}/activate`).set(admin.auth);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.emailVerified, true);
      const db = await row(pending.user.id);
      assert.equal(db?.status, 'active');
      assert.equal(db?.emailVerified, true);
      const a = await lastAudit(pending.user.id);
      assert.equal(a.action, 'user.activate');
      assert.deepEqual(a.changes, {
        status: { from: 'pending', to: 'active' },
        emailVerified: { from: false, to: true },
      });
      const again = await t.http.post(`${API}/users/${pending.user.id}/activate`).set(admin.auth);
      assert.equal(again.status, 200);
      assert.equal(
        (await audits(pending.user.id)).length,
        2,
        'activating an active user changes nothing',
      );
    });

    it('refuses a disabled user (422), an unknown id (404), a plain user (403), no caller (401)', async () => {
      const disabled = await makeUser(t, { status: 'disabled' });
      assertProblem(
        await t.http.post(`${API}/users/${disabled.user.id}/activate`).set(admin.auth),
        422,
      );
      assert.equal((await row(disabled.user.id))?.status, 'disabled');
      assertProblem(
        await t.http
          .post(`${API}/users/00000000-0000-7000-8000-000000000000/activate`)
          .set(admin.auth),
        404,
      );
      const pending = await makeUser(t, { status: 'pending' });
      assertProblem(
        await t.http.post(`${API}/users/${pending.user.id}/activate`).set(alice.auth),
        403,
      );
      assertProblem(await t.http.post(`${API}/users/${pending.user.id}/activate`), 401);
      assert.equal((await row(pending.user.id))?.status, 'pending');
    });
  });

  describe('GET /users/:id/log and /actions', () => {
    it('lists changes to the record newest first, paged, to self and admin', async () => {
      const u = await makeUser(t);
      await t.http.patch(`${API}/users/me`).set(u.auth).send({ fullName: 'One' }).expect(200);
      await t.http.patch(`${API}/users/me`).set(u.auth).send({ fullName: 'Two' }).expect(200);
      await t.http
        .patch(`${API}/users/${u.user.id}`)
        .set(admin.auth)
        .send({ role: 'demo' })
        .expect(200);
      const all = await t.http.get(`${API}/users/${u.user.id}/log`).set(admin.auth);
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.body.items.map((e: { action: string }) => e.action),
        // makeUser also signed in (session.create).
        ['user.update', 'user.update', 'user.update', 'session.create', 'user.create'],
      );
      assert.deepEqual(all.body.items[0].changes, { role: { from: 'user', to: 'demo' } });
      assert.equal(all.body.items[0].actorId, admin.user.id);
      assert.deepEqual(all.body.items[1].changes, { fullName: { from: 'One', to: 'Two' } });

      const page1 = await t.http.get(`${API}/users/me/log?limit=3`).set(u.auth);
      assert.equal(page1.status, 200);
      assert.equal(page1.body.items.length, 3);
      assert.ok(page1.body.nextCursor);
      const page2 = await t.http
        .get(`${API}/users/${u.user.id}/log?limit=3&cursor=${page1.body.nextCursor}`)
        .set(u.auth);
      assert.deepEqual(
        page2.body.items.map((e: { action: string }) => e.action),
        ['session.create', 'user.create'],
      );
      assert.equal(page2.body.nextCursor, null);
    });

    it('lists what a user did anywhere, newest first', async () => {
      const u = await makeUser(t);
      await t.http.patch(`${API}/users/me`).set(u.auth).send({ fullName: 'Actor' }).expect(200);
      const res = await t.http
        .get(`${API}/users/${admin.user.id}/actions?limit=500`)
        .set(admin.auth);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.every((e: { actorId: string }) => e.actorId === admin.user.id));
      const seqs = res.body.items.map((e: { seq: string }) => BigInt(e.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a: bigint, b: bigint) => (a > b ? -1 : 1)),
      );
      const own = await t.http.get(`${API}/users/me/actions`).set(u.auth);
      assert.deepEqual(
        own.body.items.map((e: { action: string; targetId: string }) => [e.action, e.targetId]),
        // Created without an actor (as self-registration), the user is the actor of its creation.
        [
          ['user.update', u.user.id],
          ['session.create', u.user.id],
          ['user.create', u.user.id],
        ],
      );
      // The admin's actions include the role change made above, not the user's own change.
      assert.ok(res.body.items.some((e: { action: string }) => e.action === 'user.update'));
    });

    it('refuses another user (403), no caller (401), a bad cursor (400)', async () => {
      assertProblem(await t.http.get(`${API}/users/${bob.user.id}/log`).set(alice.auth), 403);
      assertProblem(await t.http.get(`${API}/users/${bob.user.id}/actions`).set(alice.auth), 403);
      assertProblem(await t.http.get(`${API}/users/${bob.user.id}/log`), 401);
      assertProblem(await t.http.get(`${API}/users/${bob.user.id}/actions`), 401);
      assertProblem(
        await t.http.get(`${API}/users/me/log?cursor=x`).set(alice.auth),
        400,
        'cursor',
      );
    });
  });

  it('leaves POST /users/me/password to the auth module (not shadowed by /users/:id)', async () => {
    const u = await makeUser(t);
    const res = await t.http.post(`${API}/users/me/password`).set(u.auth).send({
      currentPassword: PASSWORD,
      newPassword: 'the next long password',
      newPasswordConfirm: 'the next long password',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, u.user.id);
  });
});
