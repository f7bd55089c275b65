import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Group } from '#src/tenancy/entities/group.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import { Workspace, WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeApiKey, makeGrant, refresh } from '../factories/credentials.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { createGroup, createProject, createWorkspace, tag } from '../factories/workspaces.js';

/**
 * A narrowed credential (an API key with scopes, a grant limited to some project permissions) never
 * acts beyond its narrowing: a key scoped to `items.read` of a workspace admin must not administer
 * the workspace or its groups, whatever its owner may do with a session.
 */
describe('narrowed credentials at workspace and group level', () => {
  let t: TestApp;
  let owner: MadeUser;
  let other: MadeUser;

  before(async () => {
    t = await createTestApp();
    owner = await makeUser(t);
    other = await makeUser(t);
  });
  after(async () => t.close());

  async function world() {
    const ws = await createWorkspace(t, owner.auth);
    const project = await createProject(t, owner.auth, ws.domain);
    const group = await createGroup(t, owner.auth, ws.domain, [owner.user.id]);
    return { ws, project, group };
  }

  async function narrowedCallers(projectId: string): Promise<[string, Record<string, string>][]> {
    const key = await makeApiKey(t, owner, { scopes: ['items.read'] });
    const grant = await makeGrant(t, owner, {
      type: 'service',
      projectPermissions: [{ projectId, permissions: ['projects.read', 'items.read'] }],
    });
    const minted = await refresh(t, grant.refreshToken);
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    return [
      ['API key scoped to items.read', key.auth],
      [
        'access token of a grant narrowed to one project',
        { Authorization: `Bearer ${minted.body.access_token as string}` },
      ],
    ];
  }

  it('refuses workspace, group and project-creation writes (403) and changes nothing', async () => {
    const { ws, project, group } = await world();
    for (const [who, auth] of await narrowedCallers(project.id)) {
      const calls: [string, Promise<import('supertest').Response>][] = [
        [
          'PATCH workspace',
          t.http.patch(`/api/v1/workspaces/${ws.domain}`).set(auth).send({ title: 'taken over' }),
        ],
        [
          'add workspace users',
          t.http
            .post(`/api/v1/workspaces/${ws.domain}/users`)
            .set(auth)
            .send({ emails: [other.email], role: 'admin' }),
        ],
        [
          'set a workspace role',
          t.http
            .put(`/api/v1/workspaces/${ws.domain}/users/${other.user.id}`)
            .set(auth)
            .send({ role: 'admin' }),
        ],
        [
          'create a project',
          t.http
            .post('/api/v1/projects')
            .set(auth)
            .send({ name: tag('P'), workspace: ws.domain }),
        ],
        [
          'create a group',
          t.http
            .post('/api/v1/groups')
            .set(auth)
            .send({ name: tag('G'), workspace: ws.domain }),
        ],
        [
          'rename the group',
          t.http.patch(`/api/v1/groups/${group.id}`).set(auth).send({ name: 'taken over' }),
        ],
        ['delete the group', t.http.delete(`/api/v1/groups/${group.id}`).set(auth)],
        ['delete the workspace', t.http.delete(`/api/v1/workspaces/${ws.domain}`).set(auth)],
      ];
      for (const [what, call] of calls) {
        const res = await call;
        assert.equal(res.status, 403, `${who}: ${what}: ${res.status} ${res.text}`);
        assertProblem(res, 403);
      }
      // Reads stay allowed.
      assert.equal((await t.http.get(`/api/v1/workspaces/${ws.domain}`).set(auth)).status, 200);
    }
    const row = await t.db.getRepository(Workspace).findOneByOrFail({ id: ws.id });
    assert.equal(row.title, ws.title);
    assert.equal(
      await t.db
        .getRepository(WorkspaceMember)
        .countBy({ workspaceId: ws.id, userId: other.user.id }),
      0,
    );
    assert.equal(await t.db.getRepository(Project).countBy({ workspaceId: ws.id }), 1);
    const groups = await t.db.getRepository(Group).findBy({ workspaceId: ws.id });
    assert.deepEqual(
      groups.map((g) => g.name),
      [group.name],
    );
  });

  it('leaves an unnarrowed key (and a key scoped with workspaces.*) its owner’s workspace rights', async () => {
    const { ws } = await world();
    const plain = await makeApiKey(t, owner);
    const res = await t.http
      .patch(`/api/v1/workspaces/${ws.domain}`)
      .set(plain.auth)
      .send({ title: 'renamed by key' });
    assert.equal(res.status, 200, res.text);
    const wide = await makeApiKey(t, owner, { scopes: ['workspaces.*', 'projects.*'] });
    const res2 = await t.http
      .patch(`/api/v1/workspaces/${ws.domain}`)
      .set(wide.auth)
      .send({ title: 'renamed by wide key' });
    assert.equal(res2.status, 200, res2.text);
    assert.equal(
      (await t.db.getRepository(Workspace).findOneByOrFail({ id: ws.id })).title,
      'renamed by wide key',
    );
  });

  it('lets a key scoped to workspaces.create create a workspace (201), not administer others', async () => {
    const { ws } = await world();
    const key = await makeApiKey(t, owner, { scopes: ['workspaces.create'] });
    const title = tag('By key');
    const res = await t.http.post('/api/v1/workspaces').set(key.auth).send({ title });
    assert.equal(res.status, 201, res.text);
    assert.equal(await t.db.getRepository(Workspace).countBy({ title }), 1);
    assertProblem(
      await t.http.patch(`/api/v1/workspaces/${ws.domain}`).set(key.auth).send({ title: 'x' }),
      403,
    );
  });

  it('still refuses a narrowed credential without a caller (401)', async () => {
    const { ws } = await world();
    assertProblem(await t.http.patch(`/api/v1/workspaces/${ws.domain}`).send({ title: 'x' }), 401);
  });
});
