import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessRepository, type RoleSourceRow } from '#src/tenancy/access/access.repository.js';
import {
  insertGroup,
  insertProject,
  insertUser,
  insertWorkspace,
  insertWorkspaceMember,
} from '../factories/rows.js';
import { createMediumContext, type MediumContext } from './support.js';

// Rows in a stable order (the database may return a UNION in any order), nulls made explicit.
function normalise(rows: RoleSourceRow[]): RoleSourceRow[] {
  return rows
    .map((r) => ({
      projectId: r.projectId ?? null,
      source: r.source,
      role: r.role,
      groupId: r.groupId ?? null,
      groupName: r.groupName ?? null,
    }))
    .sort((a, b) =>
      `${a.projectId ?? ''}/${a.source}/${a.groupId ?? ''}`.localeCompare(
        `${b.projectId ?? ''}/${b.source}/${b.groupId ?? ''}`,
      ),
    );
}

const row = (
  projectId: string | null,
  source: RoleSourceRow['source'],
  role: string,
  group: { id: string; name: string } | null = null,
): RoleSourceRow => ({
  projectId,
  source,
  role,
  groupId: group?.id ?? null,
  groupName: group?.name ?? null,
});

describe(AccessRepository.name, () => {
  let ctx: MediumContext;
  let repo: AccessRepository;
  before(async () => {
    ctx = await createMediumContext([AccessRepository]);
    repo = ctx.get(AccessRepository);
  });
  after(async () => ctx.close());

  describe('roleSourcesOf', () => {
    it('returns direct, group and workspace-admin roles with the server role row', async () => {
      const u = await insertUser(ctx.db);
      const administered = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const joined = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const group = await insertGroup(ctx.db, joined.id, { members: [u.id] });
      const viaWorkspace = await insertProject(ctx.db, administered.id);
      const both = await insertProject(ctx.db, joined.id, {
        users: { [u.id]: 'member' },
        groups: { [group.id]: 'reader' },
      });
      const untouched = await insertProject(ctx.db, joined.id);

      const rows = await repo.roleSourcesOf(u.id, [viaWorkspace.id, both.id, untouched.id]);

      assert.deepEqual(
        normalise(rows),
        normalise([
          row(viaWorkspace.id, 'workspace', 'admin'),
          row(both.id, 'direct', 'member'),
          row(both.id, 'group', 'reader', group),
          row(null, 'role', 'user'),
        ]),
      );
    });

    it('returns a server-admin row for every asked project, member or not', async () => {
      const admin = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db);
      const p1 = await insertProject(ctx.db, ws.id);
      const p2 = await insertProject(ctx.db, ws.id, { users: { [admin.id]: 'reader' } });

      const rows = await repo.roleSourcesOf(admin.id, [p1.id, p2.id]);

      assert.deepEqual(
        normalise(rows),
        normalise([
          row(p1.id, 'server', 'admin'),
          row(p2.id, 'server', 'admin'),
          row(p2.id, 'direct', 'reader'),
          row(null, 'role', 'admin'),
        ]),
      );
    });

    it('gives a server admin a row for every project when no ids are given', async () => {
      const admin = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db);
      const p1 = await insertProject(ctx.db, ws.id);
      const p2 = await insertProject(ctx.db, ws.id);

      const rows = await repo.roleSourcesOf(admin.id, null);
      const server = new Set(rows.filter((r) => r.source === 'server').map((r) => r.projectId));

      assert.ok(server.has(p1.id) && server.has(p2.id));
      const [projects] = await ctx.db.query<[{ n: number | string }]>(
        'SELECT COUNT(*) AS n FROM projects',
      );
      assert.equal(server.size, Number(projects.n));
    });

    it('keeps to the asked projects', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const asked = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'reader' } });
      await insertProject(ctx.db, ws.id, { users: { [u.id]: 'admin' } });

      const rows = await repo.roleSourcesOf(u.id, [asked.id]);

      assert.deepEqual(
        normalise(rows),
        normalise([
          row(asked.id, 'direct', 'reader'),
          row(asked.id, 'workspace', 'admin'),
          row(null, 'role', 'user'),
        ]),
      );
    });

    it('returns every project role of the user when no ids are given', async () => {
      const u = await insertUser(ctx.db, { role: 'demo' });
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const group = await insertGroup(ctx.db, ws.id, { members: [u.id] });
      const p1 = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'admin' } });
      const p2 = await insertProject(ctx.db, ws.id, { groups: { [group.id]: 'member' } });
      await insertProject(ctx.db, ws.id);

      assert.deepEqual(
        normalise(await repo.roleSourcesOf(u.id, null)),
        normalise([
          row(p1.id, 'direct', 'admin'),
          row(p2.id, 'group', 'member', group),
          row(null, 'role', 'demo'),
        ]),
      );
    });

    it('does not count a workspace role below admin, nor another member of the group', async () => {
      const u = await insertUser(ctx.db);
      const other = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user', [other.id]: 'reader' });
      const group = await insertGroup(ctx.db, ws.id, { members: [other.id] });
      const p = await insertProject(ctx.db, ws.id, { groups: { [group.id]: 'admin' } });

      assert.deepEqual(normalise(await repo.roleSourcesOf(u.id, [p.id])), [
        row(null, 'role', 'user'),
      ]);
    });

    it('returns no rows at all for an unknown user', async () => {
      assert.deepEqual(await repo.roleSourcesOf('00000000-0000-0000-0000-000000000000', null), []);
    });
  });

  describe('workspaceRoles', () => {
    it('answers for several workspaces in one call, leaving out those without membership', async () => {
      const u = await insertUser(ctx.db);
      const a = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const b = await insertWorkspace(ctx.db, { [u.id]: 'reader' });
      const c = await insertWorkspace(ctx.db);
      const other = await insertUser(ctx.db);
      await insertWorkspaceMember(ctx.db, c.id, other.id, 'admin');

      const roles = await repo.workspaceRoles(u.id, [a.id, b.id, c.id, a.id]);

      assert.deepEqual(
        [...roles.entries()].sort(),
        [
          [a.id, 'admin'],
          [b.id, 'reader'],
        ].sort(),
      );
    });

    it('returns an empty map for no ids', async () => {
      assert.equal((await repo.workspaceRoles('anyone', [])).size, 0);
    });
  });

  describe('groupMemberships', () => {
    it('answers for several groups in one call, leaving out groups without the user', async () => {
      const u = await insertUser(ctx.db);
      const other = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user', [other.id]: 'user' });
      const g1 = await insertGroup(ctx.db, ws.id, { members: [u.id, other.id] });
      const g2 = await insertGroup(ctx.db, ws.id, { members: [u.id] });
      const g3 = await insertGroup(ctx.db, ws.id, { members: [other.id], ownerId: u.id });

      const member = await repo.groupMemberships(u.id, [g1.id, g2.id, g3.id, g2.id]);

      assert.deepEqual([...member].sort(), [g1.id, g2.id].sort());
    });

    it('returns an empty set for no ids', async () => {
      assert.equal((await repo.groupMemberships('anyone', [])).size, 0);
    });
  });

  describe('membersOfAdministeredWorkspaces', () => {
    it('lists the members of every workspace the user administers, once each', async () => {
      const admin = await insertUser(ctx.db);
      const x = await insertUser(ctx.db);
      const y = await insertUser(ctx.db);
      const z = await insertUser(ctx.db);
      await insertWorkspace(ctx.db, { [admin.id]: 'admin', [x.id]: 'user', [y.id]: 'reader' });
      await insertWorkspace(ctx.db, { [admin.id]: 'admin', [x.id]: 'admin' });
      // Merely a user here: its members stay out.
      await insertWorkspace(ctx.db, { [admin.id]: 'user', [z.id]: 'admin' });

      const members = await repo.membersOfAdministeredWorkspaces(admin.id);

      assert.deepEqual(members?.sort(), [admin.id, x.id, y.id].sort());
    });

    it('returns null for a user who administers no workspace', async () => {
      const u = await insertUser(ctx.db);
      await insertWorkspace(ctx.db, { [u.id]: 'user' });
      assert.equal(await repo.membersOfAdministeredWorkspaces(u.id), null);
    });
  });

  describe('resource lookups', () => {
    it('finds a workspace by id and by domain, and null for neither', async () => {
      const ws = await insertWorkspace(ctx.db);
      assert.equal((await repo.workspace({ id: ws.id }))?.domain, ws.domain);
      assert.equal((await repo.workspace({ domain: ws.domain }))?.id, ws.id);
      assert.equal(await repo.workspace({ domain: `${ws.domain}-gone` }), null);
    });

    it('finds a group and a project by id, also locked inside a transaction', async () => {
      const ws = await insertWorkspace(ctx.db);
      const g = await insertGroup(ctx.db, ws.id);
      const p = await insertProject(ctx.db, ws.id);
      const found = await ctx.database.transaction(async (tx) => ({
        group: await repo.group(g.id, tx, true),
        project: await repo.project(p.id, tx, true),
        missing: await repo.project(g.id, tx, true),
      }));
      assert.equal(found.group?.name, g.name);
      assert.equal(found.project?.name, p.name);
      assert.equal(found.missing, null);
    });

    it('finds projects by ids in id order, skipping unknown ids', async () => {
      const ws = await insertWorkspace(ctx.db);
      const p1 = await insertProject(ctx.db, ws.id);
      const p2 = await insertProject(ctx.db, ws.id);
      const found = await repo.findProjects([p2.id, ws.id, p1.id]);
      assert.deepEqual(
        found.map((p) => p.id),
        [p1.id, p2.id].sort(),
      );
      assert.deepEqual(await repo.findProjects([]), []);
    });
  });
});
