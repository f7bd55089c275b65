import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScimToken } from '#src/scim/scim-token.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import { Workspace, WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { nestRoutes, type RouteInfo } from '../support/routes.js';
import type { MadeUser } from '../factories/users.js';
import {
  addProjectMember,
  createGroup,
  createProject,
  createWorkspace,
  setWorkspaceRole,
  tag,
  users,
} from '../factories/workspaces.js';

/**
 * Every route of the Workspaces, Groups and Projects tables × every kind of caller, with the exact
 * status each must get. The world, built fresh for each cell of a changing route:
 *   workspace W (created by wsAdmin); project P in W (created by projectAdmin);
 *   member (P member), reader (W reader, P reader), groupMember (in group G, G is a P reader),
 *   cappedAdmin (server role reader, yet W admin and P admin: never writes),
 *   target (a W user in nothing else), serverAdmin and outsider in no workspace.
 */
const CALLERS = [
  'serverAdmin',
  'wsAdmin',
  'projectAdmin',
  'member',
  'reader',
  'groupMember',
  'cappedAdmin',
  'outsider',
  'anonymous',
] as const;
type Caller = (typeof CALLERS)[number];

interface World {
  domain: string;
  workspaceId: string;
  projectId: string;
  groupId: string;
}

interface Route {
  name: string;
  /** Changes state: each cell gets a fresh world. */
  fresh: boolean;
  call: (w: World, auth: Record<string, string>) => Promise<{ status: number; body: unknown }>;
  expect: Record<Caller, number>;
  /** For list routes: whether the world's resource is among the items, per caller allowed to list. */
  lists?: (w: World, body: unknown) => boolean;
  sees?: Partial<Record<Caller, boolean>>;
  /** The database after the call, given whether it succeeded. */
  verify?: (t: TestApp, w: World, succeeded: boolean) => Promise<void>;
}

// Shorthand for the common shapes.
const E = (
  s: number,
  wa: number,
  pa: number,
  m: number,
  r: number,
  gm: number,
  ca: number,
  o: number,
): Record<Caller, number> => ({
  serverAdmin: s,
  wsAdmin: wa,
  projectAdmin: pa,
  member: m,
  reader: r,
  groupMember: gm,
  cappedAdmin: ca,
  outsider: o,
  anonymous: 401,
});

/** For list routes: whether the world's resource (by its id in the world) is among the items. */
const listed =
  (key: keyof World) =>
  (w: World, body: unknown): boolean =>
    (body as { items: { id: string }[] }).items.some((x) => x.id === w[key]);

/** Every member of the world's workspace sees the world's workspace and project in lists. */
const EVERY_MEMBER_SEES: Partial<Record<Caller, boolean>> = {
  serverAdmin: true,
  wsAdmin: true,
  projectAdmin: true,
  member: true,
  reader: true,
  groupMember: true,
  cappedAdmin: true,
};

/** The world's group is listed to admins (server, workspace) and its members only. */
const GROUP_VIEWERS_SEE: Partial<Record<Caller, boolean>> = {
  serverAdmin: true,
  wsAdmin: true,
  projectAdmin: false,
  member: false,
  reader: false,
  groupMember: true,
  cappedAdmin: true,
};

describe('permission matrix: workspaces, groups, projects', () => {
  let t: TestApp;
  let u: Record<string, MadeUser>;
  let shared: World;

  const authOf = (c: Caller): Record<string, string> =>
    c === 'anonymous' ? {} : (u[c] as MadeUser).auth;
  const id = (name: string): string => (u[name] as MadeUser).user.id;

  async function world(): Promise<World> {
    const wa = authOf('wsAdmin');
    const ws = await createWorkspace(t, wa, tag('Matrix'));
    for (const [name, role] of [
      ['projectAdmin', 'user'],
      ['member', 'user'],
      ['reader', 'reader'],
      ['groupMember', 'user'],
      ['cappedAdmin', 'admin'],
      ['target', 'user'],
    ] as const) {
      await setWorkspaceRole(t, wa, ws.domain, id(name), role);
    }
    const pa = authOf('projectAdmin');
    const project = await createProject(t, pa, ws.domain);
    await addProjectMember(t, pa, project.id, { role: 'member', userId: id('member') });
    await addProjectMember(t, pa, project.id, { role: 'reader', userId: id('reader') });
    await addProjectMember(t, pa, project.id, { role: 'admin', userId: id('cappedAdmin') });
    const group = await createGroup(t, wa, ws.domain, [id('groupMember')]);
    await addProjectMember(t, wa, project.id, { role: 'reader', groupId: group.id });
    return { domain: ws.domain, workspaceId: ws.id, projectId: project.id, groupId: group.id };
  }

  let scimTokenId = '';
  const exists = async (entity: new () => object, where: Record<string, string>) =>
    t.db.getRepository(entity).exists({ where });

  const ROUTES: Route[] = [
    // Workspaces
    {
      name: 'POST /workspaces',
      fresh: false,
      call: (_w, a) =>
        t.http
          .post('/api/v1/workspaces')
          .set(a)
          .send({ title: tag('New') }),
      expect: E(201, 201, 201, 201, 201, 201, 403, 201),
    },
    {
      name: 'GET /workspaces',
      fresh: false,
      call: (_w, a) => t.http.get('/api/v1/workspaces?limit=500').set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 200),
      lists: listed('workspaceId'),
      sees: { ...EVERY_MEMBER_SEES, outsider: false },
    },
    {
      name: 'GET /workspaces/:domain',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/workspaces/${w.domain}`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
    },
    {
      name: 'PATCH /workspaces/:domain',
      fresh: false,
      call: (w, a) =>
        t.http
          .patch(`/api/v1/workspaces/${w.domain}`)
          .set(a)
          .send({ title: tag('Renamed') }),
      expect: E(200, 200, 403, 403, 403, 403, 403, 404),
    },
    {
      name: 'DELETE /workspaces/:domain',
      fresh: true,
      call: (w, a) => t.http.delete(`/api/v1/workspaces/${w.domain}`).set(a),
      expect: E(204, 204, 403, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) => {
        assert.equal(await exists(Workspace, { id: w.workspaceId }), !succeeded);
        assert.equal(await exists(WorkspaceMember, { workspaceId: w.workspaceId }), !succeeded);
        assert.equal(await exists(Project, { id: w.projectId }), !succeeded);
        assert.equal(await exists(ProjectMember, { projectId: w.projectId }), !succeeded);
        assert.equal(await exists(Group, { id: w.groupId }), !succeeded);
        assert.equal(await exists(GroupMember, { groupId: w.groupId }), !succeeded);
      },
    },
    {
      name: 'GET /workspaces/:domain/users',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/workspaces/${w.domain}/users`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
    },
    {
      name: 'POST /workspaces/:domain/users',
      fresh: false,
      call: (w, a) =>
        t.http
          .post(`/api/v1/workspaces/${w.domain}/users`)
          .set(a)
          .send({ emails: [`invitee-${tag('x').slice(2)}@example.test`], role: 'user' }),
      expect: E(200, 200, 403, 403, 403, 403, 403, 404),
    },
    {
      name: 'PUT /workspaces/:domain/users/:userId',
      fresh: true,
      call: (w, a) =>
        t.http
          .put(`/api/v1/workspaces/${w.domain}/users/${id('target')}`)
          .set(a)
          .send({ role: 'reader' }),
      expect: E(200, 200, 403, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) => {
        const m = await t.db
          .getRepository(WorkspaceMember)
          .findOneByOrFail({ workspaceId: w.workspaceId, userId: id('target') });
        assert.equal(m.role, succeeded ? 'reader' : 'user');
      },
    },
    {
      name: 'DELETE /workspaces/:domain/users/:userId',
      fresh: true,
      call: (w, a) => t.http.delete(`/api/v1/workspaces/${w.domain}/users/${id('member')}`).set(a),
      expect: E(204, 204, 403, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) => {
        assert.equal(
          await exists(WorkspaceMember, { workspaceId: w.workspaceId, userId: id('member') }),
          !succeeded,
        );
        // Leaving the workspace also ends the project membership in it.
        assert.equal(
          await exists(ProjectMember, { projectId: w.projectId, memberId: id('member') }),
          !succeeded,
        );
      },
    },
    {
      name: 'POST /workspaces/:domain/invitations',
      fresh: false,
      call: (w, a) =>
        t.http
          .post(`/api/v1/workspaces/${w.domain}/invitations`)
          .set(a)
          .send({ emails: [`invited-${tag('x').slice(2)}@example.test`], role: 'user' }),
      expect: E(201, 201, 403, 403, 403, 403, 403, 404),
    },
    {
      name: 'GET /workspaces/:domain/invitations',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/workspaces/${w.domain}/invitations`).set(a),
      expect: E(200, 200, 403, 403, 403, 403, 403, 404),
    },
    {
      name: 'DELETE /workspaces/:domain/invitations/:id',
      fresh: true,
      call: async (w, a) => {
        const made = await t.http
          .post(`/api/v1/workspaces/${w.domain}/invitations`)
          .set(authOf('wsAdmin'))
          .send({ emails: [`revoked-${tag('x').slice(2)}@example.test`], role: 'user' });
        const invitationId = (made.body as { items: { id: string }[] }).items[0]?.id ?? '';
        return t.http.delete(`/api/v1/workspaces/${w.domain}/invitations/${invitationId}`).set(a);
      },
      expect: E(204, 204, 403, 403, 403, 403, 403, 404),
    },
    // SCIM tokens (workspace admins only; the token itself is checked in test/http/scim.test.ts)
    {
      name: 'POST /workspaces/:domain/scim-tokens',
      fresh: false,
      call: (w, a) =>
        t.http.post(`/api/v1/workspaces/${w.domain}/scim-tokens`).set(a).send({ name: 'IdP' }),
      expect: E(201, 201, 403, 403, 403, 403, 403, 404),
    },
    {
      name: 'GET /workspaces/:domain/scim-tokens',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/workspaces/${w.domain}/scim-tokens`).set(a),
      expect: E(200, 200, 403, 403, 403, 403, 403, 404),
    },
    {
      name: 'DELETE /workspaces/:domain/scim-tokens/:id',
      fresh: false,
      call: async (w, a) => {
        const made = await t.http
          .post(`/api/v1/workspaces/${w.domain}/scim-tokens`)
          .set(authOf('wsAdmin'))
          .send({ name: 'to revoke' });
        scimTokenId = (made.body as { id: string }).id;
        return t.http.delete(`/api/v1/workspaces/${w.domain}/scim-tokens/${scimTokenId}`).set(a);
      },
      expect: E(204, 204, 403, 403, 403, 403, 403, 404),
      verify: async (_t, _w, succeeded) => {
        assert.equal(await exists(ScimToken, { id: scimTokenId }), !succeeded);
      },
    },
    // Groups
    {
      name: 'POST /groups',
      fresh: false,
      call: (w, a) =>
        t.http
          .post('/api/v1/groups')
          .set(a)
          .send({ name: tag('G'), workspace: w.domain }),
      expect: E(201, 201, 201, 201, 403, 201, 403, 404),
    },
    {
      name: 'GET /groups?workspace=',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/groups?workspace=${w.domain}&limit=500`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
      lists: listed('groupId'),
      sees: GROUP_VIEWERS_SEE,
    },
    {
      name: 'GET /groups',
      fresh: false,
      call: (_w, a) => t.http.get('/api/v1/groups?limit=500').set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 200),
      lists: listed('groupId'),
      sees: { ...GROUP_VIEWERS_SEE, outsider: false },
    },
    {
      name: 'GET /groups/:id',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/groups/${w.groupId}?includeProjects=true`).set(a),
      expect: E(200, 200, 404, 404, 404, 200, 200, 404),
    },
    {
      name: 'PATCH /groups/:id',
      fresh: false,
      call: (w, a) =>
        t.http
          .patch(`/api/v1/groups/${w.groupId}`)
          .set(a)
          .send({ name: tag('G') }),
      expect: E(200, 200, 404, 404, 404, 403, 403, 404),
    },
    {
      name: 'DELETE /groups/:id',
      fresh: true,
      call: (w, a) => t.http.delete(`/api/v1/groups/${w.groupId}`).set(a),
      expect: E(204, 204, 404, 404, 404, 204, 403, 404),
      verify: async (_t, w, succeeded) => {
        assert.equal(await exists(Group, { id: w.groupId }), !succeeded);
        assert.equal(await exists(GroupMember, { groupId: w.groupId }), !succeeded);
        assert.equal(
          await exists(ProjectMember, { projectId: w.projectId, memberId: w.groupId }),
          !succeeded,
        );
      },
    },
    {
      name: 'POST /groups/:id/members',
      fresh: true,
      call: (w, a) =>
        t.http
          .post(`/api/v1/groups/${w.groupId}/members`)
          .set(a)
          .send({ userId: id('target') }),
      expect: E(201, 201, 404, 404, 404, 403, 403, 404),
      verify: async (_t, w, succeeded) =>
        assert.equal(
          await exists(GroupMember, { groupId: w.groupId, userId: id('target') }),
          succeeded,
        ),
    },
    {
      name: 'DELETE /groups/:id/members/:userId',
      fresh: true,
      call: (w, a) =>
        t.http.delete(`/api/v1/groups/${w.groupId}/members/${id('groupMember')}`).set(a),
      expect: E(204, 204, 404, 404, 404, 403, 403, 404),
      verify: async (_t, w, succeeded) =>
        assert.equal(
          await exists(GroupMember, { groupId: w.groupId, userId: id('groupMember') }),
          !succeeded,
        ),
    },
    // Projects
    {
      name: 'POST /projects',
      fresh: false,
      call: (w, a) =>
        t.http
          .post('/api/v1/projects')
          .set(a)
          .send({ name: tag('P'), workspace: w.domain }),
      expect: E(201, 201, 201, 201, 403, 201, 403, 404),
    },
    {
      name: 'GET /projects?workspace=',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/projects?workspace=${w.domain}&limit=500`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
      lists: listed('projectId'),
      sees: EVERY_MEMBER_SEES,
    },
    {
      name: 'GET /projects',
      fresh: false,
      call: (_w, a) => t.http.get('/api/v1/projects?limit=500').set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 200),
      lists: listed('projectId'),
      sees: { ...EVERY_MEMBER_SEES, outsider: false },
    },
    {
      name: 'GET /projects/:id',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/projects/${w.projectId}`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
    },
    {
      name: 'PATCH /projects/:id',
      fresh: false,
      call: (w, a) =>
        t.http
          .patch(`/api/v1/projects/${w.projectId}`)
          .set(a)
          .send({ name: tag('P') }),
      expect: E(200, 200, 200, 403, 403, 403, 403, 404),
    },
    {
      name: 'DELETE /projects/:id',
      fresh: true,
      call: (w, a) => t.http.delete(`/api/v1/projects/${w.projectId}`).set(a),
      expect: E(204, 204, 204, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) => {
        assert.equal(await exists(Project, { id: w.projectId }), !succeeded);
        assert.equal(await exists(ProjectMember, { projectId: w.projectId }), !succeeded);
        assert.equal(await exists(Group, { id: w.groupId }), true, 'workspace groups stay');
      },
    },
    {
      name: 'GET /projects/:id/members',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/projects/${w.projectId}/members`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
    },
    {
      name: 'POST /projects/:id/members',
      fresh: true,
      call: (w, a) =>
        t.http
          .post(`/api/v1/projects/${w.projectId}/members`)
          .set(a)
          .send({ role: 'member', userId: id('target') }),
      expect: E(201, 201, 201, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) =>
        assert.equal(
          await exists(ProjectMember, { projectId: w.projectId, memberId: id('target') }),
          succeeded,
        ),
    },
    {
      name: 'PATCH /projects/:id/members/:memberId',
      fresh: true,
      call: (w, a) =>
        t.http
          .patch(`/api/v1/projects/${w.projectId}/members/${id('member')}`)
          .set(a)
          .send({ role: 'reader' }),
      expect: E(200, 200, 200, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) => {
        const m = await t.db
          .getRepository(ProjectMember)
          .findOneByOrFail({ projectId: w.projectId, memberId: id('member') });
        assert.equal(m.role, succeeded ? 'reader' : 'member');
      },
    },
    {
      name: 'DELETE /projects/:id/members/:memberId',
      fresh: true,
      call: (w, a) =>
        t.http.delete(`/api/v1/projects/${w.projectId}/members/${id('reader')}`).set(a),
      expect: E(204, 204, 204, 403, 403, 403, 403, 404),
      verify: async (_t, w, succeeded) =>
        assert.equal(
          await exists(ProjectMember, { projectId: w.projectId, memberId: id('reader') }),
          !succeeded,
        ),
    },
    {
      name: 'GET /projects/:id/permissions (self)',
      fresh: false,
      call: (w, a) => t.http.get(`/api/v1/projects/${w.projectId}/permissions?explain=true`).set(a),
      expect: E(200, 200, 200, 200, 200, 200, 200, 404),
    },
    {
      name: 'GET /projects/:id/permissions?userId=<member>',
      fresh: false,
      call: (w, a) =>
        t.http.get(`/api/v1/projects/${w.projectId}/permissions?userId=${id('member')}`).set(a),
      expect: E(200, 200, 200, 200, 403, 403, 403, 404),
    },
  ];

  before(async () => {
    t = await createTestApp();
    u = await users(t, {
      serverAdmin: 'admin',
      wsAdmin: 'user',
      projectAdmin: 'user',
      member: 'user',
      reader: 'user',
      groupMember: 'user',
      cappedAdmin: 'reader',
      outsider: 'user',
      target: 'user',
    });
    shared = await world();
  });
  after(async () => t.close());

  // Every workspace, group and project route the server serves, as `METHOD /path` without /api/v1.
  const tenancyRoutes = (): { key: string; info: RouteInfo }[] =>
    nestRoutes(t.app)
      .filter((r) => /^\/api\/v1\/(workspaces|groups|projects)(\/|$)/.test(r.path))
      .map((r) => ({ key: `${r.method} ${r.path.slice('/api/v1'.length)}`, info: r }));
  /** The served tenancy routes that no row of `rows` exercises. */
  const withoutRow = (rows: readonly Route[]): string[] => {
    const covered = new Set(rows.map((r) => r.name.split(/[?( ]/, 2).join(' ').trim()));
    return tenancyRoutes()
      .map((r) => r.key)
      .filter((k) => !covered.has(k));
  };

  describe('completeness', () => {
    it('has a row for every tenancy route the server serves', () => {
      assert.ok(tenancyRoutes().length >= 26, 'the tenancy routes were found');
      assert.deepEqual(withoutRow(ROUTES), []);
    });

    it('notices a route whose row is removed', () => {
      const [first, ...rest] = ROUTES;
      assert.ok(first);
      assert.deepEqual(withoutRow(rest), [first.name]);
    });

    it('declares a resource rule (or, to create a workspace, a permission) on every tenancy route', () => {
      const bare = tenancyRoutes()
        .filter(({ info }) => {
          const req = info.requirement;
          return !req || req.public || (req.resource === undefined && req.permission === undefined);
        })
        .map((r) => r.key);
      assert.deepEqual(bare, []);
    });
  });

  for (const route of ROUTES) {
    describe(route.name, () => {
      for (const caller of CALLERS) {
        const status = route.expect[caller];
        it(`${caller} → ${status}`, async () => {
          const w = route.fresh ? await world() : shared;
          const res = await route.call(w, authOf(caller));
          assert.equal(res.status, status, JSON.stringify(res.body));
          if (status >= 400) {
            assert.equal(
              (res.body as { status: number }).status,
              status,
              'problem+json body with the status',
            );
          }
          const sees = route.sees?.[caller];
          if (route.lists && sees !== undefined) assert.equal(route.lists(w, res.body), sees);
          if (route.verify) await route.verify(t, w, status < 300);
        });
      }
    });
  }
});
