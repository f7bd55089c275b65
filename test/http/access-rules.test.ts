import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { Workspace, WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, PASSWORD, uniqueEmail, type MadeUser } from '../factories/users.js';
import {
  addProjectMember,
  createGroup,
  createProject,
  createWorkspace,
  ok,
  setWorkspaceRole,
  tag,
} from '../factories/workspaces.js';

describe('anti-escalation and isolation', () => {
  let t: TestApp;
  let admin: MadeUser; // workspace admin of W
  let owner: MadeUser; // a W user who owns a group
  let pa: MadeUser; // project admin of P
  let plain: MadeUser; // a W user in nothing else
  let stranger: MadeUser; // member of another workspace only
  let w: { domain: string; id: string };
  let other: { domain: string; id: string };
  let projectId: string;

  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t);
    owner = await makeUser(t);
    pa = await makeUser(t);
    plain = await makeUser(t);
    stranger = await makeUser(t);
    w = await createWorkspace(t, admin.auth);
    for (const u of [owner, pa, plain])
      await setWorkspaceRole(t, admin.auth, w.domain, u.user.id, 'user');
    other = await createWorkspace(t, stranger.auth);
    projectId = (await createProject(t, pa.auth, w.domain)).id;
  });
  after(async () => t.close());

  it('a group owner cannot hand out, through the group, a project role they do not hold', async () => {
    const g = await createGroup(t, owner.auth, w.domain, []);
    // The owner is a member from creation, so a project role of the group would be theirs too (and
    // then theirs to share). They leave the member list first (owners may; they stay owner), so
    // they hold nothing in the project.
    await ok(
      t.http.patch(`/api/v1/groups/${g.id}`).set(owner.auth).send({ members: [] }),
      200,
      'owner leaves',
    );
    // The workspace admin makes the group a project admin (they hold admin there).
    await addProjectMember(t, admin.auth, projectId, { role: 'admin', groupId: g.id });
    const res = await t.http
      .post(`/api/v1/groups/${g.id}/members`)
      .set(owner.auth)
      .send({ userId: plain.user.id });
    assert.equal(res.status, 403);
    assert.match(res.body.detail, /admin/);
    const replace = await t.http
      .patch(`/api/v1/groups/${g.id}`)
      .set(owner.auth)
      .send({ members: [{ id: plain.user.id }] });
    assert.equal(replace.status, 403);
    assert.equal(
      await t.db
        .getRepository(GroupMember)
        .exists({ where: { groupId: g.id, userId: plain.user.id } }),
      false,
    );
    // Once the owner holds admin in the project themselves, they may.
    await addProjectMember(t, pa.auth, projectId, { role: 'admin', userId: owner.user.id });
    await ok(
      t.http.post(`/api/v1/groups/${g.id}/members`).set(owner.auth).send({ userId: plain.user.id }),
      201,
      'add',
    );
    await ok(
      t.http.delete(`/api/v1/projects/${projectId}/members/${owner.user.id}`).set(pa.auth),
      204,
      'cleanup',
    );
  });

  it('a project member cannot make anyone admin, nor add members', async () => {
    const m = await makeUser(t);
    await setWorkspaceRole(t, admin.auth, w.domain, m.user.id, 'user');
    await addProjectMember(t, pa.auth, projectId, { role: 'member', userId: m.user.id });
    for (const body of [
      { role: 'admin', userId: m.user.id },
      { role: 'reader', userId: plain.user.id },
    ]) {
      const r = await t.http.post(`/api/v1/projects/${projectId}/members`).set(m.auth).send(body);
      assert.equal(r.status, 403);
    }
    const self = await t.http
      .patch(`/api/v1/projects/${projectId}/members/${m.user.id}`)
      .set(m.auth)
      .send({ role: 'admin' });
    assert.equal(self.status, 403);
    const row = await t.db
      .getRepository(ProjectMember)
      .findOneByOrFail({ projectId, memberId: m.user.id });
    assert.equal(row.role, 'member');
  });

  it('a workspace user cannot add workspace members nor raise their own workspace role', async () => {
    const add = await t.http
      .post(`/api/v1/workspaces/${w.domain}/users`)
      .set(plain.auth)
      .send({ emails: [uniqueEmail('x')], role: 'admin' });
    assert.equal(add.status, 403);
    const raise = await t.http
      .put(`/api/v1/workspaces/${w.domain}/users/${plain.user.id}`)
      .set(plain.auth)
      .send({ role: 'admin' });
    assert.equal(raise.status, 403);
    const m = await t.db
      .getRepository(WorkspaceMember)
      .findOneByOrFail({ workspaceId: w.id, userId: plain.user.id });
    assert.equal(m.role, 'user');
  });

  it('a project admin cannot add a group they may not see (404), nor set projects of a group to one they do not administer', async () => {
    const hidden = await createGroup(t, owner.auth, w.domain, []);
    const r = await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(pa.auth)
      .send({ role: 'reader', groupId: hidden.id });
    assert.equal(r.status, 404);
    // The owner cannot attach their group to a project they cannot see (404) ...
    const r2 = await t.http
      .patch(`/api/v1/groups/${hidden.id}`)
      .set(owner.auth)
      .send({ projects: [projectId] });
    assert.equal(r2.status, 404);
    // ... nor to one they only read (403).
    await addProjectMember(t, pa.auth, projectId, { role: 'reader', userId: owner.user.id });
    const r3 = await t.http
      .patch(`/api/v1/groups/${hidden.id}`)
      .set(owner.auth)
      .send({ projects: [projectId] });
    assert.equal(r3.status, 403);
    assert.equal(
      await t.db.getRepository(ProjectMember).exists({ where: { projectId, memberId: hidden.id } }),
      false,
    );
    // The workspace admin may: the group joins as reader.
    const g = await ok<{ projects: { projectId: string; role: string }[] }>(
      t.http
        .patch(`/api/v1/groups/${hidden.id}`)
        .set(admin.auth)
        .send({ projects: [projectId] }),
      200,
      'set projects',
    );
    assert.equal(g.projects, undefined);
    const row = await t.db
      .getRepository(ProjectMember)
      .findOneByOrFail({ projectId, memberId: hidden.id });
    assert.equal(row.role, 'reader');
    const withProjects = await ok<{ projects: { projectId: string; role: string }[] }>(
      t.http.get(`/api/v1/groups/${hidden.id}?includeProjects=true`).set(admin.auth),
      200,
      'get',
    );
    assert.deepEqual(
      withProjects.projects.map((p) => [p.projectId, p.role]),
      [[projectId, 'reader']],
    );
  });

  it('a user from another workspace cannot be added to a project or a group (422)', async () => {
    for (const userId of [stranger.user.id, '0190aaaa-0000-7000-8000-000000000000']) {
      const r = await t.http
        .post(`/api/v1/projects/${projectId}/members`)
        .set(pa.auth)
        .send({ role: 'reader', userId });
      assert.equal(r.status, 422);
      assert.equal(r.body.rule, 'not_workspace_member');
    }
    const g = await t.http
      .post('/api/v1/groups')
      .set(owner.auth)
      .send({ name: tag('G'), workspace: w.domain, members: [{ id: stranger.user.id }] });
    assert.equal(g.status, 422);
    // A group of another workspace: invisible to the project admin (404).
    const foreign = await createGroup(t, stranger.auth, other.domain, []);
    const r = await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(pa.auth)
      .send({ role: 'reader', groupId: foreign.id });
    assert.equal(r.status, 404);
  });

  it('project members are exactly one of a user and a group (400 naming both fields)', async () => {
    const g = await createGroup(t, admin.auth, w.domain, []);
    for (const body of [
      { role: 'reader' },
      { role: 'reader', userId: plain.user.id, groupId: g.id },
    ]) {
      const r = await t.http.post(`/api/v1/projects/${projectId}/members`).set(pa.auth).send(body);
      assert.equal(r.status, 400);
      assert.deepEqual(
        r.body.errors.map((e: { field: string }) => e.field),
        ['userId', 'groupId'],
      );
    }
    const unknown = await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(pa.auth)
      .send({ role: 'owner', userId: plain.user.id, extra: 1 });
    assert.equal(unknown.status, 400);
  });

  it('a project-scoped group cannot join another project', async () => {
    const p2 = await createProject(t, pa.auth, w.domain);
    const scoped = await createGroup(t, pa.auth, w.domain, [], { projectId: p2.id });
    const r = await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(pa.auth)
      .send({ role: 'reader', groupId: scoped.id });
    assert.equal(r.status, 422);
    assert.equal(r.body.rule, 'group_scoped_elsewhere');
  });

  it('server readers and demo users never write, even as workspace and project admins', async () => {
    const demo = await makeUser(t, { role: 'demo' });
    await setWorkspaceRole(t, admin.auth, w.domain, demo.user.id, 'admin');
    await addProjectMember(t, pa.auth, projectId, { role: 'admin', userId: demo.user.id });
    const calls = [
      t.http
        .post('/api/v1/workspaces')
        .set(demo.auth)
        .send({ title: tag('Demo') }),
      t.http.patch(`/api/v1/workspaces/${w.domain}`).set(demo.auth).send({ title: 'x' }),
      t.http
        .post('/api/v1/projects')
        .set(demo.auth)
        .send({ name: tag('P'), workspace: w.domain }),
      t.http
        .patch(`/api/v1/projects/${projectId}`)
        .set(demo.auth)
        .send({ name: tag('P') }),
      t.http
        .post(`/api/v1/projects/${projectId}/members`)
        .set(demo.auth)
        .send({ role: 'reader', userId: plain.user.id }),
      t.http
        .post('/api/v1/groups')
        .set(demo.auth)
        .send({ name: tag('G'), workspace: w.domain }),
    ];
    for (const c of calls) assert.equal((await c).status, 403);
    const pr = await ok<{ permissions: string[] }>(
      t.http.get(`/api/v1/projects/${projectId}`).set(demo.auth),
      200,
      'read',
    );
    assert.deepEqual([...pr.permissions].sort(), [
      'items.read',
      'projects.members.read',
      'projects.read',
    ]);
  });
});

describe('groups: names per scope, settings, members', () => {
  let t: TestApp;
  let a: MadeUser;
  let b: MadeUser;
  let w: { domain: string; id: string };
  before(async () => {
    t = await createTestApp();
    a = await makeUser(t);
    b = await makeUser(t);
    w = await createWorkspace(t, a.auth);
    await setWorkspaceRole(t, a.auth, w.domain, b.user.id, 'user');
  });
  after(async () => t.close());

  it('names are unique within the workspace (case-insensitively) and separately within each project', async () => {
    const name = tag('Team');
    await createGroup(t, a.auth, w.domain, [], { name });
    const dup = await t.http
      .post('/api/v1/groups')
      .set(b.auth)
      .send({ name: name.toUpperCase(), workspace: w.domain });
    assert.equal(dup.status, 409);
    const p = await createProject(t, a.auth, w.domain);
    const scoped = await createGroup(t, a.auth, w.domain, [], { name, projectId: p.id });
    const dup2 = await t.http
      .post('/api/v1/groups')
      .set(a.auth)
      .send({ name, workspace: w.domain, projectId: p.id });
    assert.equal(dup2.status, 409);
    const row = await t.db.getRepository(Group).findOneByOrFail({ id: scoped.id });
    assert.equal(row.scopeKey, p.id);
    const listed = await ok<{ items: { id: string }[] }>(
      t.http.get(`/api/v1/groups?projectId=${p.id}`).set(a.auth),
      200,
      'list',
    );
    assert.deepEqual(
      listed.items.map((g) => g.id),
      [scoped.id],
    );
  });

  it('PATCH replaces members and settings, renames, and audits before/after; an empty change is 400', async () => {
    const g = await createGroup(t, b.auth, w.domain, [b.user.id], { settings: { k: 1 } });
    const res = await ok<{
      name: string;
      members: { id: string }[];
      settings: object;
      ownerId: string;
    }>(
      t.http
        .patch(`/api/v1/groups/${g.id}`)
        .set(b.auth)
        .send({ name: 'Renamed ' + g.id, members: [{ id: a.user.id }], settings: { k: 2 } }),
      200,
      'patch',
    );
    assert.deepEqual(
      res.members.map((m) => m.id),
      [a.user.id],
    );
    assert.deepEqual(res.settings, { k: 2 });
    assert.equal(res.ownerId, b.user.id);
    const audit = await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'group.update', targetId: g.id });
    const changes = JSON.parse(audit.changes);
    assert.deepEqual(changes.members, { added: [a.user.id], removed: [b.user.id] });
    assert.deepEqual(changes.settings, { from: { k: 1 }, to: { k: 2 } });
    assert.equal((await t.http.patch(`/api/v1/groups/${g.id}`).set(b.auth).send({})).status, 400);
  });

  it('refuses settings over 32 KiB (400 naming settings, nothing written) and audits large ones by marker', async () => {
    const name = tag('Big');
    const tooBig = { blob: 'x'.repeat(33 * 1024) };
    const refused = await t.http
      .post('/api/v1/groups')
      .set(a.auth)
      .send({ name, workspace: w.domain, settings: tooBig });
    assertProblem(refused, 400, 'settings');
    // Over 64 KiB a MySQL TEXT column cannot even hold it (strict mode: an error, a 500).
    const huge = await t.http
      .post('/api/v1/groups')
      .set(a.auth)
      .send({ name, workspace: w.domain, settings: { blob: 'y'.repeat(70 * 1024) } });
    assertProblem(huge, 400, 'settings');
    assert.equal(await t.db.getRepository(Group).countBy({ name }), 0);
    const g = await createGroup(t, a.auth, w.domain, []);
    assertProblem(
      await t.http.patch(`/api/v1/groups/${g.id}`).set(a.auth).send({ settings: tooBig }),
      400,
      'settings',
    );
    assert.deepEqual((await t.db.getRepository(Group).findOneByOrFail({ id: g.id })).settings, {});
    // Two large settings in a row: accepted, and the audit entry stays small (the column is TEXT).
    for (const c of ['a', 'b']) {
      const big = { blob: c.repeat(30 * 1024) };
      const res = await t.http.patch(`/api/v1/groups/${g.id}`).set(a.auth).send({ settings: big });
      assert.equal(res.status, 200, res.text.slice(0, 300));
      assert.deepEqual(
        (await t.db.getRepository(Group).findOneByOrFail({ id: g.id })).settings,
        big,
      );
    }
    const entries = await t.db
      .getRepository(AuditEntry)
      .findBy({ action: 'group.update', targetId: g.id });
    assert.equal(entries.length, 2);
    for (const e of entries) {
      assert.ok(e.changes.length < 8 * 1024, `audit entry of ${e.changes.length} characters`);
      assert.deepEqual(JSON.parse(e.changes).settings, { changed: true });
    }
  });

  it('lists only groups the caller owns or belongs to', async () => {
    const mine = await createGroup(t, b.auth, w.domain, []);
    const theirs = await createGroup(t, b.auth, w.domain, []);
    const c = await makeUser(t);
    await setWorkspaceRole(t, a.auth, w.domain, c.user.id, 'user');
    await ok(
      t.http.post(`/api/v1/groups/${mine.id}/members`).set(b.auth).send({ userId: c.user.id }),
      201,
      'add c',
    );
    const listed = await ok<{ items: { id: string }[] }>(
      t.http.get('/api/v1/groups').set(c.auth),
      200,
      'list',
    );
    assert.deepEqual(
      listed.items.map((g) => g.id),
      [mine.id],
    );
    assert.equal((await t.http.get(`/api/v1/groups/${theirs.id}`).set(c.auth)).status, 404);
    // A member may delete the group (as the seeds); its memberships go with it.
    await ok(t.http.delete(`/api/v1/groups/${mine.id}`).set(c.auth), 204, 'delete');
    assert.equal(
      await t.db.getRepository(GroupMember).exists({ where: { groupId: mine.id } }),
      false,
    );
  });
});

describe('workspaces: domains, signup, lists', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ SIGNUP: 'workspace' });
  });
  after(async () => t.close());

  it('gives a self-service signup a workspace of its own', async () => {
    const first = await t.http
      .post('/api/v1/auth/signup')
      .send({ email: uniqueEmail('first'), password: PASSWORD });
    assert.equal(first.status, 201);
    const res = await t.http
      .post('/api/v1/auth/signup')
      .send({ email: uniqueEmail('second'), password: PASSWORD, fullName: 'Ada Lovelace' });
    assert.equal(res.status, 201);
    assert.equal(res.body.user.role, 'user');
    const list = await ok<{ items: { domain: string; role: string }[] }>(
      t.http.get('/api/v1/workspaces').set('Authorization', `Bearer ${res.body.token}`),
      200,
      'list',
    );
    assert.equal(list.items.length, 1);
    assert.match(list.items[0]?.domain ?? '', /^ada-lovelace(-\d+)?$/);
    assert.equal(list.items[0]?.role, 'admin');
  });

  it('concurrent creations with one title all get distinct domains', async () => {
    const u = await makeUser(t);
    const title = tag('Same Title');
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => t.http.post('/api/v1/workspaces').set(u.auth).send({ title })),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 201, 201],
    );
    const domains = results.map((r) => r.body.domain as string);
    assert.equal(new Set(domains).size, 4);
    const base = title.toLowerCase().replace(' ', '-').replace(' ', '-');
    assert.deepEqual([...domains].sort(), [base, `${base}-2`, `${base}-3`, `${base}-4`].sort());
  });

  it('pages the list, filters adminOnly, and includes only visible projects', async () => {
    const u = await makeUser(t);
    const v = await makeUser(t);
    const mine = [];
    for (let i = 0; i < 3; i += 1) mine.push(await createWorkspace(t, u.auth, tag(`Page ${i}`)));
    const theirs = await createWorkspace(t, v.auth);
    await setWorkspaceRole(t, v.auth, theirs.domain, u.user.id, 'user');
    const hiddenProject = await createProject(t, v.auth, theirs.domain);
    const p1 = await ok<{ items: { domain: string }[]; nextCursor: string }>(
      t.http.get('/api/v1/workspaces?limit=2').set(u.auth),
      200,
      'p1',
    );
    assert.equal(p1.items.length, 2);
    const p2 = await ok<{ items: { domain: string }[]; nextCursor: string | null }>(
      t.http.get(`/api/v1/workspaces?limit=2&cursor=${p1.nextCursor}`).set(u.auth),
      200,
      'p2',
    );
    assert.equal(p2.items.length, 2);
    assert.equal(p2.nextCursor, null);
    const admins = await ok<{ items: { domain: string }[] }>(
      t.http.get('/api/v1/workspaces?adminOnly=true').set(u.auth),
      200,
      'adminOnly',
    );
    assert.deepEqual(admins.items.map((x) => x.domain).sort(), mine.map((x) => x.domain).sort());
    const withProjects = await ok<{ items: { domain: string; projects: { id: string }[] }[] }>(
      t.http.get('/api/v1/workspaces?includeProjects=true').set(u.auth),
      200,
      'projects',
    );
    const th = withProjects.items.find((x) => x.domain === theirs.domain);
    assert.deepEqual(th?.projects, []);
    const vv = await ok<{ items: { domain: string; projects: { id: string }[] }[] }>(
      t.http.get('/api/v1/workspaces?includeProjects=true').set(v.auth),
      200,
      'projects',
    );
    assert.deepEqual(
      vv.items.find((x) => x.domain === theirs.domain)?.projects.map((p) => p.id),
      [hiddenProject.id],
    );
  });

  it('audits workspace changes with before and after', async () => {
    const u = await makeUser(t);
    const ws = await createWorkspace(t, u.auth);
    await ok(
      t.http.patch(`/api/v1/workspaces/${ws.domain}`).set(u.auth).send({ title: 'New title' }),
      200,
      'patch',
    );
    const row = await t.db.getRepository(Workspace).findOneByOrFail({ id: ws.id });
    assert.equal(row.title, 'New title');
    assert.equal(row.domain, ws.domain, 'the domain stays stable');
    const audit = await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'workspace.update', targetId: ws.id });
    assert.equal(audit.actorId, u.user.id);
    assert.deepEqual(JSON.parse(audit.changes), { title: { from: ws.title, to: 'New title' } });
  });
});
