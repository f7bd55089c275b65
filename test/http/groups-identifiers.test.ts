import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { ScimGroup } from '#src/scim/scim-group.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { scimClient } from '../support/scim.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import {
  createProject,
  createWorkspace,
  ok,
  setWorkspaceRole,
  tag,
} from '../factories/workspaces.js';

const API = '/api/v1';

/** A caller-chosen id of exactly `length` characters, unique per run, using every allowed kind. */
function chosenId(length = 64): string {
  const head = `flow.Team_${randomBytes(4).toString('hex')}-`;
  return (head + 'x'.repeat(length)).slice(0, length);
}

describe('groups: caller-chosen ids and the owner as a member', () => {
  let t: TestApp;
  let owner: MadeUser;
  let other: MadeUser;
  let admin: MadeUser;
  let ws: { id: string; domain: string };

  before(async () => {
    t = await createTestApp();
    owner = await makeUser(t);
    other = await makeUser(t);
    admin = await makeUser(t, { role: 'admin' });
    ws = await createWorkspace(t, owner.auth);
    await setWorkspaceRole(t, owner.auth, ws.domain, other.user.id, 'user');
  });
  after(async () => t.close());

  const create = (body: Record<string, unknown>, auth = owner.auth) =>
    t.http
      .post(`${API}/groups`)
      .set(auth)
      .send({ name: tag('Group'), workspace: ws.domain, ...body });
  const memberIds = async (groupId: string) =>
    (await t.db.getRepository(GroupMember).findBy({ groupId })).map((m) => m.userId).sort();
  const groupCount = () => t.db.getRepository(Group).count();

  it('creates a group with a 64-character chosen id that every group, project-member and SCIM route takes', async () => {
    const id = chosenId(64);
    const res = await create({ id, members: [{ id: other.user.id }] });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.id, id);
    assert.equal(res.body.ownerId, owner.user.id);
    assert.deepEqual(
      (res.body.members as { id: string }[]).map((m) => m.id).sort(),
      [owner.user.id, other.user.id].sort(),
    );
    assert.equal((await t.db.getRepository(Group).findOneByOrFail({ id })).ownerId, owner.user.id);
    assert.deepEqual(await memberIds(id), [owner.user.id, other.user.id].sort());
    // One audit entry records the creation with the owner among the members.
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ action: 'group.create', targetType: 'group', targetId: id });
    assert.equal(audit.length, 1);
    const changes = JSON.parse(audit[0]!.changes) as { members: string[]; chosenId: boolean };
    assert.deepEqual(changes.members.sort(), [owner.user.id, other.user.id].sort());
    assert.equal(changes.chosenId, true);

    assert.equal((await t.http.get(`${API}/groups/${id}`).set(other.auth)).status, 200);
    const renamed = await t.http
      .patch(`${API}/groups/${id}`)
      .set(owner.auth)
      .send({ name: tag('Renamed') });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((await t.db.getRepository(Group).findOneByOrFail({ id })).name, renamed.body.name);

    // As a project member, in the permission explanation, and by its member id.
    const project = await createProject(t, owner.auth, ws.domain);
    const added = await t.http
      .post(`${API}/projects/${project.id}/members`)
      .set(owner.auth)
      .send({ groupId: id, role: 'member' });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.memberId, id);
    const row = await t.db
      .getRepository(ProjectMember)
      .findOneByOrFail({ projectId: project.id, memberId: id });
    assert.equal(row.groupId, id);
    assert.equal(row.memberType, 'group');
    const explained = await t.http
      .get(`${API}/projects/${project.id}/permissions?userId=${other.user.id}&explain=true`)
      .set(owner.auth);
    assert.equal(explained.status, 200, explained.text);
    const sources = (explained.body.explain as { sources: { kind: string; groupId?: string }[] }[])
      .flatMap((e) => e.sources)
      .filter((s) => s.kind === 'group');
    assert.ok(sources.length > 0 && sources.every((s) => s.groupId === id), explained.text);
    const changed = await t.http
      .patch(`${API}/projects/${project.id}/members/${id}`)
      .set(owner.auth)
      .send({ role: 'reader' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(
      (
        await t.db
          .getRepository(ProjectMember)
          .findOneByOrFail({ projectId: project.id, memberId: id })
      ).role,
      'reader',
    );

    // SCIM sees the workspace's group by its id and can rename it (its scim row takes the id).
    const token = await ok<{ token: string }>(
      t.http.post(`${API}/workspaces/${ws.domain}/scim-tokens`).set(owner.auth).send({ name: 'x' }),
      201,
      'scim token',
    );
    const scim = scimClient(t, token.token);
    const got = await scim.get(`/Groups/${id}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.id, id);
    const patched = await scim.patch(
      `/Groups/${id}`,
      scim.ops({ op: 'replace', path: 'externalId', value: 'ext-1' }),
    );
    assert.ok([200, 204].includes(patched.status), patched.text);
    assert.equal(
      (await t.db.getRepository(ScimGroup).findOneByOrFail({ groupId: id })).externalId,
      'ext-1',
    );

    const removed = await t.http
      .delete(`${API}/projects/${project.id}/members/${id}`)
      .set(owner.auth);
    assert.equal(removed.status, 204, removed.text);
    assert.equal(
      await t.db.getRepository(ProjectMember).countBy({ projectId: project.id, memberId: id }),
      0,
    );
    const deleted = await t.http.delete(`${API}/groups/${id}`).set(owner.auth);
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(await t.db.getRepository(Group).countBy({ id }), 0);
    assert.equal(await t.db.getRepository(GroupMember).countBy({ groupId: id }), 0);
  });

  it('refuses an id already taken, in any case, with 409 naming id, and writes nothing', async () => {
    const id = chosenId(20);
    assert.equal((await create({ id })).status, 201);
    const before = await groupCount();
    assertProblem(await create({ id }), 409, 'id');
    assertProblem(await create({ id: id.toUpperCase() }), 409, 'id');
    assertProblem(await create({ id: id.toLowerCase() }), 409, 'id');
    assert.equal(await groupCount(), before);
    // A generated id is still the default.
    const generated = await create({});
    assert.equal(generated.status, 201, generated.text);
    assert.match(generated.body.id as string, /^[0-9a-f-]{36}$/);
  });

  it('finds a group by its exact id only, on MySQL as on SQLite', async () => {
    const id = chosenId(24);
    assert.equal((await create({ id })).status, 201);
    assertProblem(await t.http.get(`${API}/groups/${id.toUpperCase()}`).set(owner.auth), 404);
    assert.equal((await t.http.get(`${API}/groups/${id}`).set(owner.auth)).status, 200);
  });

  it('refuses malformed ids with 400 naming id, in the body and in the path', async () => {
    const before = await groupCount();
    for (const bad of ['', 'a b', 'ä', 'a/b', '.', '..', 'x'.repeat(65), 42]) {
      assertProblem(await create({ id: bad }), 400, 'id');
    }
    assert.equal(await groupCount(), before);
    assertProblem(
      await t.http.get(`${API}/groups/${encodeURIComponent('a b')}`).set(owner.auth),
      400,
      'id',
      /must be a group id/,
    );
    assertProblem(
      await t.http.get(`${API}/groups/${'y'.repeat(65)}`).set(owner.auth),
      400,
      'id',
      /must be a group id/,
    );
  });

  it('makes the creator a member, except a server admin outside the workspace (members come from it only)', async () => {
    const mine = await create({});
    assert.equal(mine.status, 201, mine.text);
    assert.deepEqual(await memberIds(mine.body.id as string), [owner.user.id]);

    const byAdmin = await create({ members: [{ id: other.user.id }] }, admin.auth);
    assert.equal(byAdmin.status, 201, byAdmin.text);
    assert.equal(byAdmin.body.ownerId, admin.user.id);
    assert.deepEqual(await memberIds(byAdmin.body.id as string), [other.user.id]);
  });

  it('lets the owner leave the members and stay owner: still manages the group and may rejoin', async () => {
    const g = await create({ members: [{ id: other.user.id }] });
    assert.equal(g.status, 201, g.text);
    const id = g.body.id as string;
    // PATCH members replaces the list as given (flowserv's update_group), owner or not.
    const replaced = await t.http
      .patch(`${API}/groups/${id}`)
      .set(owner.auth)
      .send({ members: [{ id: other.user.id }] });
    assert.equal(replaced.status, 200, replaced.text);
    assert.deepEqual(await memberIds(id), [other.user.id]);
    assert.equal((await t.db.getRepository(Group).findOneByOrFail({ id })).ownerId, owner.user.id);
    // Still the owner: sees it, lists it, and adds themselves back.
    assert.equal((await t.http.get(`${API}/groups/${id}`).set(owner.auth)).status, 200);
    const listed = await t.http
      .get(`${API}/groups?workspace=${ws.domain}&limit=500`)
      .set(owner.auth);
    assert.ok((listed.body.items as { id: string }[]).some((x) => x.id === id));
    const rejoined = await t.http
      .post(`${API}/groups/${id}/members`)
      .set(owner.auth)
      .send({ userId: owner.user.id });
    assert.equal(rejoined.status, 201, rejoined.text);
    assert.deepEqual(await memberIds(id), [owner.user.id, other.user.id].sort());
    // DELETE of the owner's membership likewise.
    const left = await t.http
      .delete(`${API}/groups/${id}/members/${owner.user.id}`)
      .set(owner.auth);
    assert.equal(left.status, 204, left.text);
    assert.deepEqual(await memberIds(id), [other.user.id]);
    assert.equal((await t.db.getRepository(Group).findOneByOrFail({ id })).ownerId, owner.user.id);
    // A member who is not the owner still cannot manage it.
    assertProblem(
      await t.http
        .patch(`${API}/groups/${id}`)
        .set(other.auth)
        .send({ name: tag('No') }),
      403,
    );
  });
});
