import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Role, UserRole } from '#src/users/role.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { giveRole, makeRole, uniqueRoleName } from '../factories/roles.js';

const API = '/api/v1';

describe('roles routes', () => {
  let t: TestApp;
  let admin: MadeUser;
  let user: MadeUser;

  const roleRow = (name: string) => t.db.getRepository(Role).findOneBy({ name });
  const lastAudit = async (targetId: string) => {
    const a = await t.db
      .getRepository(AuditEntry)
      .findOneOrFail({ where: { targetId }, order: { seq: 'DESC' } });
    return { ...a, changes: JSON.parse(a.changes) as Record<string, unknown> };
  };

  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin' });
    user = await makeUser(t);
  });
  after(async () => t.close());

  describe('GET /roles and GET /permissions', () => {
    it('lists roles by name to any signed-in user, paged', async () => {
      const a = await makeRole(t, { name: uniqueRoleName('aa'), permissions: ['users.read'] });
      await makeRole(t, { name: uniqueRoleName('ab') });
      const res = await t.http.get(`${API}/roles`).set(user.auth);
      assert.equal(res.status, 200);
      const names = res.body.items.map((r: { name: string }) => r.name);
      assert.deepEqual(names, [...names].sort());
      const first = res.body.items.find((r: { id: string }) => r.id === a.id);
      assert.deepEqual(first.permissions, ['users.read']);
      const page = await t.http.get(`${API}/roles?limit=1`).set(user.auth);
      assert.equal(page.body.items.length, 1);
      const next = await t.http
        .get(`${API}/roles?limit=1&cursor=${page.body.nextCursor}`)
        .set(user.auth);
      assert.equal(next.body.items.length, 1);
      assert.ok(next.body.items[0].name > page.body.items[0].name);
    });

    it('refuses an anonymous caller (401) and names a bad limit (400)', async () => {
      assertProblem(await t.http.get(`${API}/roles`), 401);
      assertProblem(await t.http.get(`${API}/permissions`), 401);
      assertProblem(await t.http.get(`${API}/roles?limit=abc`).set(user.auth), 400, 'limit');
    });

    it('lists the permission catalogue', async () => {
      const res = await t.http.get(`${API}/permissions`).set(user.auth);
      assert.equal(res.status, 200);
      const names = res.body.items.map((p: { name: string }) => p.name);
      for (const n of ['users.read', 'users.manage', 'roles.manage', 'audit.read'])
        assert.ok(names.includes(n));
    });

    it('pages the permission catalogue with ?limit and ?cursor, and names a bad limit or cursor (400)', async () => {
      const all = await t.http.get(`${API}/permissions?limit=500`).set(user.auth);
      assert.equal(all.status, 200);
      const names = all.body.items.map((p: { name: string }) => p.name);
      assert.ok(names.length > 2);
      assert.equal(all.body.nextCursor, null);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page = await t.http.get(`${API}/permissions?limit=2${q}`).set(user.auth);
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((p: { name: string }) => p.name));
        cursor = page.body.nextCursor as string | null;
      } while (cursor !== null);
      assert.deepEqual(seen, names);
      for (const q of ['limit=0', 'limit=501', 'limit=abc'])
        assertProblem(await t.http.get(`${API}/permissions?${q}`).set(user.auth), 400, 'limit');
      assertProblem(
        await t.http.get(`${API}/permissions?cursor=nope`).set(user.auth),
        400,
        'cursor',
      );
    });
  });

  describe('POST /roles', () => {
    it('creates a role (201), audited', async () => {
      const name = uniqueRoleName('auditors');
      const res = await t.http
        .post(`${API}/roles`)
        .set(admin.auth)
        .send({
          name,
          description: 'Read logs',
          permissions: ['audit.read', 'users.read', 'audit.read'],
        });
      assert.equal(res.status, 201);
      assert.equal(res.body.name, name);
      assert.equal(res.body.description, 'Read logs');
      assert.deepEqual(res.body.permissions, ['audit.read', 'users.read']);
      assert.equal(res.body.version, 1);
      const row = await roleRow(name);
      assert.deepEqual(row?.permissions, ['audit.read', 'users.read']);
      const a = await lastAudit(res.body.id);
      assert.equal(a.action, 'role.create');
      assert.equal(a.actorId, admin.user.id);
      assert.deepEqual(a.changes, {
        name,
        description: 'Read logs',
        permissions: ['audit.read', 'users.read'],
      });
    });

    it('accepts wildcards that cover known permissions', async () => {
      const res = await t.http
        .post(`${API}/roles`)
        .set(admin.auth)
        .send({ name: uniqueRoleName(), permissions: ['users.*'] });
      assert.equal(res.status, 201);
    });

    it('refuses unknown permissions with 400 naming them, writing nothing', async () => {
      const name = uniqueRoleName();
      const res = await t.http
        .post(`${API}/roles`)
        .set(admin.auth)
        .send({ name, permissions: ['users.read', 'users.fly', 'nothing.*'] });
      assertProblem(res, 400, 'permissions', /users\.fly, nothing\.\*/);
      assert.equal(await roleRow(name), null);
    });

    it('refuses a duplicate name (409) and a server role name (400)', async () => {
      const existing = await makeRole(t);
      assertProblem(
        await t.http
          .post(`${API}/roles`)
          .set(admin.auth)
          .send({ name: existing.name, permissions: [] }),
        409,
        'name',
      );
      assertProblem(
        await t.http.post(`${API}/roles`).set(admin.auth).send({ name: 'admin', permissions: [] }),
        400,
        'name',
      );
      assert.equal(await t.db.getRepository(Role).countBy({ name: existing.name }), 1);
    });

    it('names bad fields (400)', async () => {
      const res = await t.http
        .post(`${API}/roles`)
        .set(admin.auth)
        .send({ name: 'Bad Name!', permissions: 'x', extra: 1 });
      assertProblem(res, 400, 'name');
      assertProblem(res, 400, 'permissions');
      assertProblem(res, 400, 'extra');
      assertProblem(
        await t.http.post(`${API}/roles`).set(admin.auth).send({ name: uniqueRoleName() }),
        400,
        'permissions',
      );
    });

    it('refuses a plain user (403) and an anonymous caller (401)', async () => {
      const name = uniqueRoleName();
      assertProblem(
        await t.http.post(`${API}/roles`).set(user.auth).send({ name, permissions: [] }),
        403,
      );
      assertProblem(await t.http.post(`${API}/roles`).send({ name, permissions: [] }), 401);
      assert.equal(await roleRow(name), null);
    });

    it('does not let a role manager grant what they do not hold', async () => {
      const manager = await makeUser(t);
      await giveRole(
        t,
        manager.user.id,
        await makeRole(t, { permissions: ['roles.manage', 'users.read'] }),
      );
      const name = uniqueRoleName();
      assertProblem(
        await t.http
          .post(`${API}/roles`)
          .set(manager.auth)
          .send({ name, permissions: ['*'] }),
        403,
      );
      assertProblem(
        await t.http
          .post(`${API}/roles`)
          .set(manager.auth)
          .send({ name, permissions: ['users.manage'] }),
        403,
      );
      assert.equal(await roleRow(name), null);
      const ok = await t.http
        .post(`${API}/roles`)
        .set(manager.auth)
        .send({ name, permissions: ['users.read'] });
      assert.equal(ok.status, 201);
    });
  });

  describe('PATCH /roles/:name', () => {
    it('renames and changes permissions, audited before/after; holders gain them at once', async () => {
      const role = await makeRole(t, { permissions: [] });
      const holder = await makeUser(t);
      await giveRole(t, holder.user.id, role);
      assertProblem(await t.http.get(`${API}/users`).set(holder.auth), 403);
      const name = uniqueRoleName('renamed');
      const res = await t.http
        .patch(`${API}/roles/${role.name}`)
        .set(admin.auth)
        .send({ name, permissions: ['users.read'], version: 1 });
      assert.equal(res.status, 200);
      assert.equal(res.body.name, name);
      assert.deepEqual(res.body.permissions, ['users.read']);
      assert.equal(res.body.version, 2);
      assert.equal(await roleRow(role.name), null);
      assert.deepEqual((await roleRow(name))?.permissions, ['users.read']);
      assert.deepEqual((await lastAudit(role.id)).changes, {
        name: { from: role.name, to: name },
        permissions: { from: [], to: ['users.read'] },
      });
      assert.equal((await t.http.get(`${API}/users`).set(holder.auth)).status, 200);
    });

    it('answers 404 for an unknown role, 409 for a taken name or a stale version, 400 for no change', async () => {
      const role = await makeRole(t);
      const other = await makeRole(t);
      assertProblem(
        await t.http.patch(`${API}/roles/no-such-role`).set(admin.auth).send({ description: 'x' }),
        404,
      );
      assertProblem(
        await t.http.patch(`${API}/roles/${role.name}`).set(admin.auth).send({ name: other.name }),
        409,
        'name',
      );
      assertProblem(
        await t.http
          .patch(`${API}/roles/${role.name}`)
          .set(admin.auth)
          .send({ description: 'x', version: 9 }),
        409,
        'version',
      );
      assertProblem(
        await t.http.patch(`${API}/roles/${role.name}`).set(admin.auth).send({}),
        400,
        'body',
      );
      assertProblem(
        await t.http
          .patch(`${API}/roles/${role.name}`)
          .set(admin.auth)
          .send({ permissions: ['bogus.perm'] }),
        400,
        'permissions',
        /bogus\.perm/,
      );
      const row = await roleRow(role.name);
      assert.equal(row?.version, 1);
      assert.equal(row?.description, null);
    });

    it('refuses a plain user (403) and an anonymous caller (401)', async () => {
      const role = await makeRole(t);
      assertProblem(
        await t.http.patch(`${API}/roles/${role.name}`).set(user.auth).send({ description: 'x' }),
        403,
      );
      assertProblem(
        await t.http.patch(`${API}/roles/${role.name}`).send({ description: 'x' }),
        401,
      );
      assert.equal((await roleRow(role.name))?.description, null);
    });
  });

  describe('DELETE /roles/:name', () => {
    it('deletes the role; holders lose it at once; audited', async () => {
      const role = await makeRole(t, { permissions: ['users.read'] });
      const holder = await makeUser(t);
      await giveRole(t, holder.user.id, role);
      assert.equal((await t.http.get(`${API}/users`).set(holder.auth)).status, 200);
      const res = await t.http.delete(`${API}/roles/${role.name}`).set(admin.auth);
      assert.equal(res.status, 204);
      assert.equal(await roleRow(role.name), null);
      assert.equal(await t.db.getRepository(UserRole).countBy({ roleId: role.id }), 0);
      const a = await lastAudit(role.id);
      assert.equal(a.action, 'role.delete');
      assert.deepEqual(a.changes, { name: role.name, permissions: ['users.read'], holders: 1 });
      assertProblem(await t.http.get(`${API}/users`).set(holder.auth), 403);
    });

    it('answers 404 for an unknown role; refuses a plain user (403) and no caller (401)', async () => {
      const role = await makeRole(t);
      assertProblem(await t.http.delete(`${API}/roles/no-such-role`).set(admin.auth), 404);
      assertProblem(await t.http.delete(`${API}/roles/${role.name}`).set(user.auth), 403);
      assertProblem(await t.http.delete(`${API}/roles/${role.name}`), 401);
      assert.ok(await roleRow(role.name));
    });
  });
});
