import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppException } from '#src/common/errors/app.exception.js';
import { AccessRepository } from '#src/tenancy/access/access.repository.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { ALL_PROJECT_PERMISSIONS } from '#src/tenancy/access/project-roles.js';
import {
  insertGroup,
  insertProject,
  insertUser,
  insertWorkspace,
  insertWorkspaceMember,
} from '../factories/rows.js';
import { createMediumContext, principalFor, type MediumContext } from './support.js';

const READER = ['projects.read', 'projects.members.read', 'items.read'];
const MEMBER = [...READER, 'items.write', 'items.delete'];
const ALL = [...ALL_PROJECT_PERMISSIONS];
const sorted = (xs: readonly string[]) => [...xs].sort();

/** Matches the AppException a service throws, by code (and detail, when given). */
const refused =
  (code: 'not_found' | 'forbidden', detail?: string) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof AppException, `expected an AppException, got ${String(err)}`);
    assert.equal(err.code, code);
    if (detail !== undefined) assert.equal(err.detail, detail);
    return true;
  };

describe(AccessService.name, () => {
  let ctx: MediumContext;
  let access: AccessService;
  before(async () => {
    ctx = await createMediumContext([AccessRepository, AccessService]);
    access = ctx.get(AccessService);
  });
  after(async () => ctx.close());

  describe('workspace', () => {
    it('is not found for an outsider, as for a workspace that does not exist', async () => {
      const outsider = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db);
      await assert.rejects(
        access.workspace(principalFor(outsider), { id: ws.id }),
        refused('not_found', 'Workspace not found.'),
      );
      await assert.rejects(
        access.workspace(principalFor(outsider), { domain: `${ws.domain}-gone` }),
        refused('not_found', 'Workspace not found.'),
      );
    });

    it('lets a workspace reader see it but neither contribute nor administer', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'reader' });
      const p = principalFor(u);
      const a = await access.workspace(p, { domain: ws.domain });
      assert.equal(a.workspace.id, ws.id);
      assert.deepEqual(
        { role: a.role, serverAdmin: a.serverAdmin, admin: a.admin, contributor: a.contributor },
        { role: 'reader', serverAdmin: false, admin: false, contributor: false },
      );
      await assert.rejects(
        access.workspace(p, { id: ws.id }, 'contributor'),
        refused('forbidden', 'Only workspace admins and users can do this.'),
      );
      await assert.rejects(
        access.workspace(p, { id: ws.id }, 'admin'),
        refused('forbidden', 'Only workspace admins can do this.'),
      );
    });

    it('lets a workspace user contribute but not administer', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const a = await access.workspace(principalFor(u), { id: ws.id }, 'contributor');
      assert.equal(a.contributor, true);
      assert.equal(a.admin, false);
      await assert.rejects(
        access.workspace(principalFor(u), { id: ws.id }, 'admin'),
        refused('forbidden'),
      );
    });

    it('lets a workspace admin administer', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const a = await access.workspace(principalFor(u), { id: ws.id }, 'admin');
      assert.deepEqual(
        [a.role, a.admin, a.contributor, a.serverAdmin],
        ['admin', true, true, false],
      );
    });

    it('lets a server admin administer a workspace they are no member of', async () => {
      const admin = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db);
      const a = await access.workspace(principalFor(admin), { id: ws.id }, 'admin');
      assert.deepEqual([a.role, a.admin, a.serverAdmin], [null, true, true]);
    });

    it('lets a named role with workspaces.manage administer every workspace', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db);
      const p = principalFor(u, { namedRolePermissions: ['workspaces.manage'] });
      assert.equal((await access.workspace(p, { id: ws.id }, 'admin')).serverAdmin, true);
    });

    for (const role of ['reader', 'demo'] as const) {
      it(`never lets a ${role} server role write, even as workspace admin`, async () => {
        const u = await insertUser(ctx.db, { role });
        const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
        const a = await access.workspace(principalFor(u), { id: ws.id });
        assert.deepEqual([a.role, a.admin, a.contributor], ['admin', false, false]);
        await assert.rejects(
          access.workspace(principalFor(u), { id: ws.id }, 'contributor'),
          refused('forbidden'),
        );
      });
    }

    it('refuses writes to an API key without workspaces.manage in its scopes', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const narrow = principalFor(u, { scopes: ['projects.read', 'workspaces.create'] });
      assert.equal((await access.workspace(narrow, { id: ws.id })).admin, false);
      await assert.rejects(access.workspace(narrow, { id: ws.id }, 'admin'), refused('forbidden'));
      const broad = principalFor(u, { scopes: ['workspaces.*'] });
      assert.equal((await access.workspace(broad, { id: ws.id }, 'admin')).admin, true);
    });

    it('refuses writes to a grant limited to project permissions', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const grant = principalFor(u, { projectPermissions: {} });
      await assert.rejects(
        access.workspace(grant, { id: ws.id }, 'contributor'),
        refused('forbidden'),
      );
    });
  });

  describe('group', () => {
    it('is not found when it does not exist', async () => {
      const u = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db);
      await assert.rejects(
        access.group(principalFor(u), ws.id),
        refused('not_found', 'Group not found.'),
      );
    });

    it('is not found (as a group, not a workspace) for an outsider to the workspace', async () => {
      const outsider = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db);
      const g = await insertGroup(ctx.db, ws.id);
      await assert.rejects(
        access.group(principalFor(outsider), g.id),
        refused('not_found', 'Group not found.'),
      );
    });

    it('is not found for a workspace member who neither belongs to it nor owns it', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const g = await insertGroup(ctx.db, ws.id);
      await assert.rejects(access.group(principalFor(u), g.id), refused('not_found'));
    });

    it('lets a member see and delete it but not manage it', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const g = await insertGroup(ctx.db, ws.id, { members: [u.id] });
      const a = await access.group(principalFor(u), g.id, 'deleter');
      assert.deepEqual(
        { member: a.member, owner: a.owner, manage: a.manage, delete: a.delete },
        { member: true, owner: false, manage: false, delete: true },
      );
      assert.equal(a.workspace.role, 'user');
      await assert.rejects(
        access.group(principalFor(u), g.id, 'manager'),
        refused('forbidden', 'Only the group owner and workspace admins can change it.'),
      );
    });

    it('lets the owner manage it without being a member', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'reader' });
      const g = await insertGroup(ctx.db, ws.id, { ownerId: u.id });
      const a = await access.group(principalFor(u), g.id, 'manager');
      assert.deepEqual([a.member, a.owner, a.manage, a.delete], [false, true, true, true]);
    });

    it('lets a workspace admin and a server admin manage it', async () => {
      const wsAdmin = await insertUser(ctx.db);
      const serverAdmin = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db, { [wsAdmin.id]: 'admin' });
      const g = await insertGroup(ctx.db, ws.id);
      for (const u of [wsAdmin, serverAdmin]) {
        const a = await access.group(principalFor(u), g.id, 'manager');
        assert.equal(a.manage, true, u.role);
        assert.equal(a.member, false, u.role);
      }
    });

    it('lets a reader server role see its group but neither manage nor delete it', async () => {
      const u = await insertUser(ctx.db, { role: 'reader' });
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const g = await insertGroup(ctx.db, ws.id, { members: [u.id], ownerId: u.id });
      const a = await access.group(principalFor(u), g.id);
      assert.deepEqual([a.member, a.owner, a.manage, a.delete], [true, true, false, false]);
      await assert.rejects(
        access.group(principalFor(u), g.id, 'deleter'),
        refused('forbidden', 'You may not delete this group.'),
      );
    });
  });

  describe('project', () => {
    it('is not found when the caller holds nothing there, or it does not exist', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const p = await insertProject(ctx.db, ws.id);
      await assert.rejects(
        access.project(principalFor(u), p.id),
        refused('not_found', 'Project not found.'),
      );
      await assert.rejects(access.project(principalFor(u), ws.id), refused('not_found'));
    });

    it('returns the project with the permissions held, and 403 for one not held', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const p = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'reader' } });
      const view = await access.project(principalFor(u), p.id);
      assert.equal(view.project.id, p.id);
      assert.deepEqual(sorted(view.permissions), sorted(READER));
      await assert.rejects(
        access.project(principalFor(u), p.id, 'items.write'),
        refused('forbidden', 'This needs the project permission items.write.'),
      );
    });

    it('gives a workspace admin and a server admin every permission in it', async () => {
      const wsAdmin = await insertUser(ctx.db);
      const serverAdmin = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db, { [wsAdmin.id]: 'admin' });
      const p = await insertProject(ctx.db, ws.id);
      for (const u of [wsAdmin, serverAdmin])
        assert.deepEqual(
          (await access.project(principalFor(u), p.id, 'projects.delete')).permissions,
          ALL,
        );
    });

    it('caps a demo server role to reads whatever its project role', async () => {
      const u = await insertUser(ctx.db, { role: 'demo' });
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const p = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'admin' } });
      assert.deepEqual(
        sorted((await access.project(principalFor(u), p.id)).permissions),
        sorted(READER),
      );
      await assert.rejects(
        access.project(principalFor(u), p.id, 'items.write'),
        refused('forbidden'),
      );
    });

    it('refuses to let a caller assign a role they do not hold', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const p = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'admin' } });
      // The key may manage members but carries only reads of items: it may hand out reader only.
      const key = principalFor(u, { scopes: ['projects.*', 'items.read'] });
      const view = await access.project(key, p.id, 'projects.members.manage', {
        assignsRoles: ['reader'],
      });
      assert.ok(view.permissions.includes('projects.members.manage'));
      await assert.rejects(
        access.project(key, p.id, 'projects.members.manage', {
          assignsRoles: ['reader', 'member'],
        }),
        refused('forbidden', 'You cannot assign the role member: you do not hold it.'),
      );
      await access.project(principalFor(u), p.id, 'projects.members.manage', {
        assignsRoles: ['admin'],
      });
    });

    it('judges the latest rows when asked to lock inside a transaction', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const p = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'member' } });
      const view = await ctx.database.transaction((tx) =>
        access.project(principalFor(u), p.id, 'items.write', { tx, lock: true }),
      );
      assert.deepEqual(sorted(view.permissions), sorted(MEMBER));
    });
  });

  describe('projectPermissions', () => {
    it('answers for several projects in one call, empty where nothing is held', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const group = await insertGroup(ctx.db, ws.id, { members: [u.id] });
      const direct = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'member' } });
      const viaGroup = await insertProject(ctx.db, ws.id, { groups: { [group.id]: 'admin' } });
      const none = await insertProject(ctx.db, ws.id);

      const perms = await access.projectPermissions(principalFor(u), [
        direct.id,
        viaGroup.id,
        none.id,
        direct.id,
      ]);

      assert.deepEqual(
        [...perms.entries()].map(([id, ps]) => [id, sorted(ps)]).sort(),
        [
          [direct.id, sorted(MEMBER)],
          [viaGroup.id, sorted(ALL)],
          [none.id, []],
        ].sort(),
      );
    });

    it("narrows by an API key's scopes", async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const p = await insertProject(ctx.db, ws.id);
      const key = principalFor(u, { scopes: ['projects.read', 'items.*'] });
      const perms = await access.projectPermissions(key, [p.id]);
      assert.deepEqual(sorted(perms.get(p.id) ?? []), [
        'items.delete',
        'items.read',
        'items.write',
        'projects.read',
      ]);
    });

    it("narrows by a grant's project permissions, project by project", async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const p1 = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'member' } });
      const p2 = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'member' } });
      // The grant asks for more than is held in p1 (projects.delete) and names nothing in p2.
      const grant = principalFor(u, {
        projectPermissions: { [p1.id]: ['projects.read', 'items.write', 'projects.delete'] },
      });
      const perms = await access.projectPermissions(grant, [p1.id, p2.id]);
      assert.deepEqual(sorted(perms.get(p1.id) ?? []), ['items.write', 'projects.read']);
      assert.deepEqual(perms.get(p2.id), []);
      await assert.rejects(access.project(grant, p2.id), refused('not_found'));
      await assert.rejects(
        access.project(grant, p1.id, 'items.delete'),
        refused('forbidden', 'This needs the project permission items.delete.'),
      );
    });

    it('gives a holder of workspaces.manage every permission in every project', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db);
      const p = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'reader' } });
      const p2 = await insertProject(ctx.db, ws.id);
      const perms = await access.projectPermissions(
        principalFor(u, { namedRolePermissions: ['workspaces.manage'] }),
        [p.id, p2.id],
      );
      assert.deepEqual(perms.get(p.id), ALL);
      assert.deepEqual(perms.get(p2.id), ALL);
    });
  });

  describe('visibleProjectIds', () => {
    it('keeps the projects the caller may read, in the order asked', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const seen = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'reader' } });
      const unseen = await insertProject(ctx.db, ws.id);
      const alsoSeen = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'admin' } });
      const visible = await access.visibleProjectIds(principalFor(u), [
        unseen.id,
        alsoSeen.id,
        seen.id,
        'no-such-project',
      ]);
      assert.deepEqual([...visible], [alsoSeen.id, seen.id]);
    });

    it('hides projects a narrowed credential carries nothing for', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const p = await insertProject(ctx.db, ws.id);
      const key = principalFor(u, { scopes: ['items.read'] });
      assert.equal((await access.visibleProjectIds(key, [p.id])).size, 0);
    });
  });

  describe('permissionsByProject', () => {
    it('lists what a user holds per project, leaving out projects with nothing', async () => {
      const u = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const group = await insertGroup(ctx.db, ws.id, { members: [u.id] });
      const p1 = await insertProject(ctx.db, ws.id, { users: { [u.id]: 'reader' } });
      const p2 = await insertProject(ctx.db, ws.id, {
        users: { [u.id]: 'reader' },
        groups: { [group.id]: 'member' },
      });
      const p3 = await insertProject(ctx.db, ws.id);

      const all = await access.permissionsByProject(u.id);
      assert.deepEqual(Object.keys(all).sort(), [p1.id, p2.id].sort());
      assert.deepEqual(sorted(all[p1.id] ?? []), sorted(READER));
      assert.deepEqual(sorted(all[p2.id] ?? []), sorted(MEMBER));

      const some = await access.permissionsByProject(u.id, [p2.id, p3.id, p2.id]);
      assert.deepEqual(Object.keys(some), [p2.id]);
    });

    it('caps a reader server role', async () => {
      const u = await insertUser(ctx.db, { role: 'reader' });
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const p = await insertProject(ctx.db, ws.id);
      assert.deepEqual(
        sorted((await access.permissionsByProject(u.id, [p.id]))[p.id] ?? []),
        sorted(READER),
      );
    });

    it('is empty for an unknown user and for no ids', async () => {
      assert.deepEqual(
        await access.permissionsByProject('00000000-0000-0000-0000-000000000000'),
        {},
      );
      const u = await insertUser(ctx.db, { role: 'admin' });
      assert.deepEqual(await access.permissionsByProject(u.id, []), {});
    });
  });

  describe('effective', () => {
    it('explains each permission with its sources, direct before groups by name', async () => {
      const u = await insertUser(ctx.db, { role: 'demo' });
      const ws = await insertWorkspace(ctx.db, { [u.id]: 'user' });
      const zulu = await insertGroup(ctx.db, ws.id, { members: [u.id], name: `Zulu ${u.id}` });
      const alpha = await insertGroup(ctx.db, ws.id, { members: [u.id], name: `Alpha ${u.id}` });
      const p = await insertProject(ctx.db, ws.id, {
        users: { [u.id]: 'reader' },
        groups: { [zulu.id]: 'member', [alpha.id]: 'reader' },
      });

      const e = await access.effective(u.id, p.id);

      assert.equal(e.serverRole, 'demo');
      assert.deepEqual(e.sources, [
        { kind: 'direct', role: 'reader' },
        { kind: 'group', role: 'reader', groupId: alpha.id, groupName: alpha.name },
        { kind: 'group', role: 'member', groupId: zulu.id, groupName: zulu.name },
      ]);
      assert.deepEqual(sorted(e.permissions), sorted(READER));
      assert.deepEqual(
        e.explain.find((x) => x.permission === 'items.write'),
        {
          permission: 'items.write',
          granted: false,
          sources: [{ kind: 'group', role: 'member', groupId: zulu.id, groupName: zulu.name }],
          cappedBy: { kind: 'server-role', role: 'demo' },
        },
      );
    });
  });

  describe('projectsOfUser', () => {
    it("lists the user's projects the viewer may see, with what the user holds", async () => {
      const u = await insertUser(ctx.db);
      const viewer = await insertUser(ctx.db);
      const wsA = await insertWorkspace(ctx.db, { [u.id]: 'user', [viewer.id]: 'user' });
      const wsB = await insertWorkspace(ctx.db, { [u.id]: 'admin' });
      const shared = await insertProject(ctx.db, wsA.id, {
        users: { [u.id]: 'member', [viewer.id]: 'reader' },
      });
      const hidden = await insertProject(ctx.db, wsB.id);

      const seen = await access.projectsOfUser(u.id, principalFor(viewer));
      assert.deepEqual(
        seen.map((x) => ({ ...x, permissions: sorted(x.permissions) })),
        [{ id: shared.id, name: shared.name, workspaceId: wsA.id, permissions: sorted(MEMBER) }],
      );

      const self = await access.projectsOfUser(u.id, principalFor(u));
      assert.deepEqual(
        self.map((x) => x.id),
        [shared.id, hidden.id].sort(),
      );
      assert.deepEqual(self.find((x) => x.id === hidden.id)?.permissions, ALL);
    });

    it('leaves out projects a server admin sees only by being one', async () => {
      const admin = await insertUser(ctx.db, { role: 'admin' });
      const ws = await insertWorkspace(ctx.db, { [admin.id]: 'user' });
      const member = await insertProject(ctx.db, ws.id, { users: { [admin.id]: 'reader' } });
      await insertProject(ctx.db, ws.id);

      const projects = await access.projectsOfUser(admin.id, principalFor(admin));
      assert.deepEqual(
        projects.map((x) => x.id),
        [member.id],
      );
      assert.deepEqual(projects[0]?.permissions, ALL);
    });
  });

  describe('membersOfAdministeredWorkspaces', () => {
    it('lists the members of the workspaces the viewer administers', async () => {
      const admin = await insertUser(ctx.db);
      const x = await insertUser(ctx.db);
      const ws = await insertWorkspace(ctx.db, { [admin.id]: 'admin' });
      await insertWorkspaceMember(ctx.db, ws.id, x.id, 'reader');
      assert.deepEqual(
        (await access.membersOfAdministeredWorkspaces(admin.id))?.sort(),
        [admin.id, x.id].sort(),
      );
      assert.equal(await access.membersOfAdministeredWorkspaces(x.id), null);
    });
  });
});
