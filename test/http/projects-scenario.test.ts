import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { GroupMember } from '#src/tenancy/entities/group.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { AccessRepository } from '#src/tenancy/access/access.repository.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { User } from '#src/users/user.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { linkParam, SmtpCapture } from '../support/smtp.js';
import { makeUser, PASSWORD, uniqueEmail, type MadeUser } from '../factories/users.js';
import {
  addProjectMember,
  createProject,
  createWorkspace,
  ok,
  setWorkspaceRole,
  tag,
} from '../factories/workspaces.js';

const READER = ['items.read', 'projects.members.read', 'projects.read'];
const MEMBER = [...READER, 'items.delete', 'items.write'].sort();
const ADMIN = [...MEMBER, 'projects.delete', 'projects.members.manage', 'projects.update'].sort();

interface Explained {
  permission: string;
  granted: boolean;
  sources: { kind: string; role: string; groupId?: string; groupName?: string }[];
  cappedBy: { kind: string; role: string } | null;
}

/** Counts the access repository's reads (the real ones run); `take()` returns them and restarts. */
function countReads(repo: AccessRepository) {
  const names = [
    'workspace',
    'workspaceRoles',
    'group',
    'groupMemberships',
    'project',
    'roleSourcesOf',
  ] as const;
  let reads: Record<string, number> = {};
  const original = names.map((name) => [name, repo[name]] as const);
  for (const [name, read] of original) {
    const counted = (...args: unknown[]) => {
      reads[name] = (reads[name] ?? 0) + 1;
      return (read as (...a: unknown[]) => unknown).apply(repo, args);
    };
    Object.assign(repo, { [name]: counted });
  }
  return {
    take: () => {
      const taken = reads;
      reads = {};
      return taken;
    },
    restore: () => {
      for (const [name, read] of original) Object.assign(repo, { [name]: read });
    },
  };
}

describe("the seeds' scenario: workspace, invitations, group as project reader, direct admin, downgrade", () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  let owner: MadeUser;
  let alice: MadeUser;
  const bobEmail = uniqueEmail('bob');
  let bobAuth: Record<string, string>;
  let bobId: string;
  let domain: string;
  let projectId: string;
  let groupId: string;
  const groupName = tag('Team East');

  const perms = (auth: Record<string, string>, userId?: string) =>
    t.http
      .get(
        `/api/v1/projects/${projectId}/permissions?explain=true${userId ? `&userId=${userId}` : ''}`,
      )
      .set(auth);

  before(async () => {
    smtp = new SmtpCapture();
    const smtpUrl = await smtp.start();
    t = await createTestApp({ SMTP_URL: smtpUrl, MAIL_FROM: 'gatehouse@example.test' });
    owner = await makeUser(t, { fullName: 'Owner' });
    alice = await makeUser(t, { fullName: 'Alice' });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  it('creates the workspace with a slug domain, suffixed on a clash; the creator is its admin', async () => {
    const title = `Project ${Date.now() % 100000}`;
    const first = await ok<{ domain: string; id: string; role: string }>(
      t.http.post('/api/v1/workspaces').set(owner.auth).send({ title }),
      201,
      'workspace',
    );
    const slug = title.toLowerCase().replace(' ', '-');
    assert.equal(first.domain, slug);
    assert.equal(first.role, 'admin');
    const second = await ok<{ domain: string }>(
      t.http.post('/api/v1/workspaces').set(owner.auth).send({ title }),
      201,
      'workspace',
    );
    assert.equal(second.domain, `${slug}-2`);
    domain = first.domain;
    const m = await t.db
      .getRepository(WorkspaceMember)
      .findOneByOrFail({ workspaceId: first.id, userId: owner.user.id });
    assert.equal(m.role, 'admin');
  });

  it('adds users by email: an existing person accepts an invitation, an unknown email becomes an invited user who activates from the mail', async () => {
    const res = await t.http
      .post(`/api/v1/workspaces/${domain}/users`)
      .set(owner.auth)
      .send({ emails: [alice.email, bobEmail], role: 'user' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 2);
    assert.deepEqual(
      res.body.map((r: { workspace: string }) => r.workspace),
      [domain, domain],
    );
    assert.equal(res.body[0].userId, alice.user.id);
    // The owner is a workspace admin, not a server admin: alice (who exists) is invited, not added.
    assert.equal(res.body[0].status, 'invited');
    assert.equal(res.body[1].status, 'added');
    const invitation = await smtp.waitFor(alice.email, /Invitation to the Gatehouse workspace/);
    await ok(
      t.http
        .post('/api/v1/invitations/accept')
        .set(alice.auth)
        .send({ token: linkParam(invitation, '/invite', 'token') }),
      200,
      'alice accepts',
    );
    bobId = res.body[1].userId;
    const bob = await t.db.getRepository(User).findOneByOrFail({ id: bobId });
    assert.equal(bob.status, 'pending');
    assert.equal(bob.emailNormalized, bobEmail.toLowerCase());

    const mail = await smtp.waitFor(bobEmail, /invited/);
    const token = linkParam(mail, '/activate', 'token');
    await ok(
      t.http.post('/api/v1/auth/activate').send({ token, password: PASSWORD }),
      200,
      'activate',
    );
    const login = await ok<{ token: string }>(
      t.http.post('/api/v1/auth/login').send({ username: bobEmail, password: PASSWORD }),
      200,
      'login',
    );
    bobAuth = { Authorization: `Bearer ${login.token}` };
    const users = await ok<{ items: { id: string; role: string }[] }>(
      t.http.get(`/api/v1/workspaces/${domain}/users`).set(bobAuth),
      200,
      'list',
    );
    assert.deepEqual(
      users.items.map((i) => i.id).sort(),
      [owner.user.id, alice.user.id, bobId].sort(),
    );
  });

  it('creates a group with members, makes it a project reader, and alice an admin directly', async () => {
    const group = await ok<{ id: string; members: { id: string }[]; settings: object }>(
      t.http
        .post('/api/v1/groups')
        .set(owner.auth)
        .send({
          name: groupName,
          workspace: domain,
          members: [{ id: alice.user.id }, { id: bobId }],
          settings: { engine: { workers: 2 }, parameters: [{ name: 'x' }] },
        }),
      201,
      'group',
    );
    groupId = group.id;
    assert.deepEqual(group.settings, { engine: { workers: 2 }, parameters: [{ name: 'x' }] });
    // The owner is one of the members (the seeds: the creator is always in the member list).
    assert.deepEqual(
      group.members.map((m) => m.id).sort(),
      [owner.user.id, alice.user.id, bobId].sort(),
    );
    const project = await ok<{ id: string }>(
      t.http
        .post('/api/v1/projects')
        .set(owner.auth)
        .send({ name: tag('Proj'), workspace: domain }),
      201,
      'project',
    );
    projectId = project.id;
    const asGroup = await ok<{ memberType: string; projectRole: string; permissions: string[] }>(
      t.http
        .post(`/api/v1/projects/${projectId}/members`)
        .set(owner.auth)
        .send({ role: 'reader', groupId }),
      201,
      'group member',
    );
    assert.equal(asGroup.memberType, 'group');
    assert.deepEqual([...asGroup.permissions].sort(), READER);
    await ok(
      t.http
        .post(`/api/v1/projects/${projectId}/members`)
        .set(owner.auth)
        .send({ role: 'admin', userId: alice.user.id }),
      201,
      'alice admin',
    );
    const rows = await t.db.getRepository(ProjectMember).findBy({ projectId });
    assert.deepEqual(
      rows.map((r) => `${r.memberType}:${r.memberId}:${r.role}`).sort(),
      [
        `group:${groupId}:reader`,
        `user:${alice.user.id}:admin`,
        `user:${owner.user.id}:admin`,
      ].sort(),
    );
  });

  it("explains both users' effective permissions", async () => {
    const a = await ok<{ permissions: string[]; explain: Explained[]; serverRole: string }>(
      perms(alice.auth),
      200,
      'alice',
    );
    assert.deepEqual([...a.permissions].sort(), ADMIN);
    assert.equal(a.serverRole, 'user');
    const itemsRead = a.explain.find((e) => e.permission === 'items.read');
    assert.deepEqual(itemsRead?.sources, [
      { kind: 'direct', role: 'admin' },
      { kind: 'group', role: 'reader', groupId, groupName },
    ]);
    const manage = a.explain.find((e) => e.permission === 'projects.members.manage');
    assert.deepEqual(manage?.sources, [{ kind: 'direct', role: 'admin' }]);

    // Alice, a project admin, may read bob's; bob sees only his own.
    const b = await ok<{ permissions: string[]; explain: Explained[] }>(
      perms(alice.auth, bobId),
      200,
      'bob by alice',
    );
    assert.deepEqual([...b.permissions].sort(), READER);
    assert.ok(b.explain.every((e) => e.sources.length === 1 && e.sources[0]?.kind === 'group'));
    assert.equal((await perms(bobAuth, alice.user.id)).status, 403);
    // An unknown user (the same one query finds no server role): 404, as for an unknown project.
    const unknown = await perms(alice.auth, '01890000-0000-7000-8000-000000000000');
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body.detail), /User/);

    // The exported one-query evaluation agrees.
    const byProject = await t.get(AccessService).permissionsByProject(alice.user.id, [projectId]);
    assert.deepEqual([...(byProject[projectId] ?? [])].sort(), ADMIN);
  });

  it("reads the resource and the caller's roles once per read (its guard's), and answers about oneself as when an admin asks", async () => {
    const spy = countReads(t.get(AccessRepository));
    try {
      const own = await ok<Record<string, unknown>>(perms(alice.auth), 200, 'alice');
      // The route's guard reads both; the answer about oneself comes from what it read.
      assert.deepEqual(spy.take(), { project: 1, roleSourcesOf: 1 });
      const byOwner = await ok<Record<string, unknown>>(
        perms(owner.auth, alice.user.id),
        200,
        'alice by owner',
      );
      // About someone else: their roles are one more query.
      assert.deepEqual(spy.take(), { project: 1, roleSourcesOf: 2 });
      assert.deepEqual(own, byOwner);
      assert.deepEqual([...(own.permissions as string[])].sort(), ADMIN);

      // The project and its members: what the guard read is the answer's permissions.
      const got = await ok<{ id: string; permissions: string[] }>(
        t.http.get(`/api/v1/projects/${projectId}`).set(alice.auth),
        200,
        'project',
      );
      assert.equal(got.id, projectId);
      assert.deepEqual([...got.permissions].sort(), ADMIN);
      assert.deepEqual(spy.take(), { project: 1, roleSourcesOf: 1 });
      const members = await ok<{ items: { memberId: string }[] }>(
        t.http.get(`/api/v1/projects/${projectId}/members`).set(alice.auth),
        200,
        'members',
      );
      assert.ok(members.items.some((m) => m.memberId === alice.user.id));
      assert.deepEqual(spy.take(), { project: 1, roleSourcesOf: 1 });

      // The workspace, its users and a group: the same, one read of each.
      const ws = await ok<{ domain: string; role: string }>(
        t.http.get(`/api/v1/workspaces/${domain}`).set(owner.auth),
        200,
        'workspace',
      );
      assert.deepEqual([ws.domain, ws.role], [domain, 'admin']);
      assert.deepEqual(spy.take(), { workspace: 1, workspaceRoles: 1 });
      const wsUsers = await ok<{ items: { id: string }[] }>(
        t.http.get(`/api/v1/workspaces/${domain}/users`).set(owner.auth),
        200,
        'workspace users',
      );
      assert.ok(wsUsers.items.some((u) => u.id === alice.user.id));
      assert.deepEqual(spy.take(), { workspace: 1, workspaceRoles: 1 });
      const group = await ok<{ id: string; name: string }>(
        t.http.get(`/api/v1/groups/${groupId}`).set(bobAuth),
        200,
        'group',
      );
      assert.deepEqual([group.id, group.name], [groupId, groupName]);
      assert.deepEqual(spy.take(), {
        group: 1,
        workspace: 1,
        workspaceRoles: 1,
        groupMemberships: 1,
      });
    } finally {
      spy.restore();
    }
  });

  it('a downgrade takes effect on the very next request', async () => {
    await ok(
      t.http
        .patch(`/api/v1/projects/${projectId}/members/${alice.user.id}`)
        .set(owner.auth)
        .send({ role: 'member' }),
      200,
      'downgrade',
    );
    const a = await ok<{ permissions: string[] }>(perms(alice.auth), 200, 'alice');
    assert.deepEqual([...a.permissions].sort(), MEMBER);
    const denied = await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(alice.auth)
      .send({ role: 'reader', userId: owner.user.id });
    assert.equal(denied.status, 403);
    const audit = await t.db.getRepository(AuditEntry).findOneByOrFail({
      action: 'project.member_role',
      targetId: projectId,
    });
    assert.equal(audit.actorId, owner.user.id);
    assert.deepEqual(JSON.parse(audit.changes), {
      memberId: alice.user.id,
      memberType: 'user',
      role: { from: 'admin', to: 'member' },
    });
  });

  it('the server role caps project roles, and the explanation says so', async () => {
    await t.db.getRepository(User).update({ id: alice.user.id }, { role: 'reader' });
    const a = await ok<{ permissions: string[]; explain: Explained[] }>(
      perms(alice.auth),
      200,
      'alice',
    );
    assert.deepEqual([...a.permissions].sort(), READER);
    const write = a.explain.find((e) => e.permission === 'items.write');
    assert.equal(write?.granted, false);
    assert.deepEqual(write?.cappedBy, { kind: 'server-role', role: 'reader' });
    await t.db.getRepository(User).update({ id: alice.user.id }, { role: 'user' });
  });

  it('leaving the group takes effect on the very next request (404: no longer visible)', async () => {
    assert.equal((await t.http.get(`/api/v1/projects/${projectId}`).set(bobAuth)).status, 200);
    await ok(
      t.http.delete(`/api/v1/groups/${groupId}/members/${bobId}`).set(owner.auth),
      204,
      'remove',
    );
    assert.equal(
      await t.db.getRepository(GroupMember).exists({ where: { groupId, userId: bobId } }),
      false,
    );
    assert.equal((await t.http.get(`/api/v1/projects/${projectId}`).set(bobAuth)).status, 404);
    const b = await ok<{ permissions: string[] }>(perms(owner.auth, bobId), 200, 'bob');
    assert.deepEqual(b.permissions, []);
    const listed = await ok<{ items: { id: string }[] }>(
      t.http.get('/api/v1/projects').set(bobAuth),
      200,
      'list',
    );
    assert.ok(!listed.items.some((p) => p.id === projectId));
  });
});

/** Two concurrent last-admin changes: exactly one succeeds, the other is refused (403 or 422). */
function assertOneWins(ra: Response, rb: Response): void {
  const statuses = [ra.status, rb.status].sort();
  assert.equal(statuses[0], 200, JSON.stringify([ra.body, rb.body]));
  assert.ok([403, 422].includes(statuses[1] ?? 0), JSON.stringify([ra.body, rb.body]));
}

describe('last-admin protection under concurrency', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('two project admins demoting each other at once leave exactly one admin', async () => {
    for (let round = 0; round < 3; round += 1) {
      const a = await makeUser(t);
      const b = await makeUser(t);
      const ws = await createWorkspace(t, a.auth, tag('Race'));
      await setWorkspaceRole(t, a.auth, ws.domain, b.user.id, 'user');
      const p = await createProject(t, a.auth, ws.domain);
      await addProjectMember(t, a.auth, p.id, { role: 'admin', userId: b.user.id });
      const [ra, rb] = await Promise.all([
        t.http
          .patch(`/api/v1/projects/${p.id}/members/${b.user.id}`)
          .set(a.auth)
          .send({ role: 'member' }),
        t.http
          .patch(`/api/v1/projects/${p.id}/members/${a.user.id}`)
          .set(b.auth)
          .send({ role: 'member' }),
      ]);
      assertOneWins(ra, rb);
      const admins = await t.db
        .getRepository(ProjectMember)
        .findBy({ projectId: p.id, memberType: 'user', role: 'admin' });
      assert.equal(admins.length, 1);
    }
  });

  it('two workspace admins demoting each other at once leave exactly one admin', async () => {
    for (let round = 0; round < 3; round += 1) {
      const a = await makeUser(t);
      const b = await makeUser(t);
      const ws = await createWorkspace(t, a.auth, tag('Race'));
      await setWorkspaceRole(t, a.auth, ws.domain, b.user.id, 'admin');
      const [ra, rb] = await Promise.all([
        t.http
          .put(`/api/v1/workspaces/${ws.domain}/users/${b.user.id}`)
          .set(a.auth)
          .send({ role: 'user' }),
        t.http
          .put(`/api/v1/workspaces/${ws.domain}/users/${a.user.id}`)
          .set(b.auth)
          .send({ role: 'user' }),
      ]);
      assertOneWins(ra, rb);
      const admins = await t.db
        .getRepository(WorkspaceMember)
        .findBy({ workspaceId: ws.id, role: 'admin' });
      assert.equal(admins.length, 1);
    }
  });

  it('refuses to remove or demote the last admin (422)', async () => {
    const a = await makeUser(t);
    const ws = await createWorkspace(t, a.auth, tag('Solo'));
    const demote = await t.http
      .put(`/api/v1/workspaces/${ws.domain}/users/${a.user.id}`)
      .set(a.auth)
      .send({ role: 'user' });
    assert.equal(demote.status, 422);
    assert.equal(demote.body.rule, 'last_workspace_admin');
    const leave = await t.http
      .delete(`/api/v1/workspaces/${ws.domain}/users/${a.user.id}`)
      .set(a.auth);
    assert.equal(leave.status, 422);
    const p = await createProject(t, a.auth, ws.domain);
    const pd = await t.http
      .patch(`/api/v1/projects/${p.id}/members/${a.user.id}`)
      .set(a.auth)
      .send({ role: 'reader' });
    assert.equal(pd.status, 422);
    assert.equal(pd.body.rule, 'last_project_admin');
    const pr = await t.http.delete(`/api/v1/projects/${p.id}/members/${a.user.id}`).set(a.auth);
    assert.equal(pr.status, 422);
    const row = await t.db
      .getRepository(ProjectMember)
      .findOneByOrFail({ projectId: p.id, memberId: a.user.id });
    assert.equal(row.role, 'admin');
  });
});
