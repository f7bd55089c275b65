import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { ScimToken } from '#src/scim/scim-token.entity.js';
import { ScimUser } from '#src/scim/scim-user.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  assertScimError,
  ENTERPRISE,
  GROUP,
  LIST,
  scimClient,
  USER,
  validateResource,
  type Json,
  type ScimClient,
} from '../support/scim.js';
import { makeUser, PASSWORD, uniqueEmail, type MadeUser } from '../factories/users.js';
import {
  addProjectMember,
  createProject,
  createWorkspace,
  ok,
  setWorkspaceRole,
} from '../factories/workspaces.js';

interface Ws {
  id: string;
  domain: string;
}

describe('SCIM 2.0 provisioning (/scim/v2)', () => {
  let t: TestApp;
  let adminA: MadeUser;
  let adminB: MadeUser;
  let wsA: Ws;
  let wsB: Ws;
  let a: ScimClient;
  let tokenA: string;
  let b: ScimClient;
  let schemas: { id: string; attributes: never[] }[];

  async function newToken(
    admin: MadeUser,
    ws: Ws,
    name = 'IdP',
  ): Promise<{ id: string; token: string }> {
    return ok(
      t.http.post(`/api/v1/workspaces/${ws.domain}/scim-tokens`).set(admin.auth).send({ name }),
      201,
      'create SCIM token',
    );
  }

  const user = (r: { body: unknown }): Json => {
    validateResource(r.body as Json, schemas, USER);
    return r.body as Json;
  };
  const group = (r: { body: unknown }): Json => {
    validateResource(r.body as Json, schemas, GROUP);
    return r.body as Json;
  };
  const list = (r: { status: number; body: unknown; text: string }, core: string): Json[] => {
    assert.equal(r.status, 200, r.text);
    const body = r.body as Json;
    assert.deepEqual(body.schemas, [LIST]);
    assert.equal(typeof body.totalResults, 'number');
    const items = body.Resources as Json[];
    assert.equal(body.itemsPerPage, items.length);
    // Every full resource in a list is checked against the served schema too.
    if (core !== '') for (const x of items) if (x.meta) validateResource(x, schemas, core);
    return items;
  };
  const member = (wsId: string, userId: string) =>
    t.db.getRepository(WorkspaceMember).findOne({ where: { workspaceId: wsId, userId } });

  before(async () => {
    t = await createTestApp();
    adminA = await makeUser(t);
    adminB = await makeUser(t);
    wsA = await createWorkspace(t, adminA.auth);
    wsB = await createWorkspace(t, adminB.auth);
    tokenA = (await newToken(adminA, wsA)).token;
    a = scimClient(t, tokenA);
    b = scimClient(t, (await newToken(adminB, wsB)).token);
    const res = await a.get('/Schemas');
    schemas = (res.body as { Resources: { id: string; attributes: never[] }[] }).Resources;
  });
  after(async () => t.close());

  describe('SCIM tokens (/api/v1/workspaces/:domain/scim-tokens)', () => {
    it('shows a token once, stores only its hash, lists without it and audits', async () => {
      const created = await newToken(adminA, wsA, 'Okta');
      assert.match(created.token, /^gths_[A-Za-z0-9_-]{43}[0-9a-f]{8}$/);
      const row = await t.db.getRepository(ScimToken).findOneByOrFail({ id: created.id });
      assert.equal(row.tokenHash, createHash('sha256').update(created.token).digest('hex'));
      assert.equal(row.workspaceId, wsA.id);
      const listed = await t.http
        .get(`/api/v1/workspaces/${wsA.domain}/scim-tokens`)
        .set(adminA.auth);
      assert.equal(listed.status, 200);
      const item = (listed.body.items as Json[]).find((x) => x.id === created.id);
      assert.ok(item);
      assert.equal(item.name, 'Okta');
      assert.ok(!JSON.stringify(listed.body).includes(created.token.slice(12)));
      const audit = await t.db.getRepository(AuditEntry).findOneByOrFail({
        action: 'scim_token.create',
        targetId: wsA.id,
        actorId: adminA.user.id,
      });
      assert.ok(!audit.changes.includes(created.token));
    });

    it('refuses workspace members who are not admins (403) and outsiders (404)', async () => {
      const m = await makeUser(t);
      await setWorkspaceRole(t, adminA.auth, wsA.domain, m.user.id, 'user');
      const r1 = await t.http
        .post(`/api/v1/workspaces/${wsA.domain}/scim-tokens`)
        .set(m.auth)
        .send({ name: 'x' });
      assert.equal(r1.status, 403);
      const r2 = await t.http.get(`/api/v1/workspaces/${wsA.domain}/scim-tokens`).set(adminB.auth);
      assert.equal(r2.status, 404);
      const r3 = await t.http
        .post(`/api/v1/workspaces/${wsA.domain}/scim-tokens`)
        .set(adminA.auth)
        .send({});
      assert.equal(r3.status, 400);
    });

    it('revokes: the token stops at the next request', async () => {
      const created = await newToken(adminA, wsA, 'to revoke');
      const c = scimClient(t, created.token);
      assert.equal((await c.get('/Users')).status, 200);
      const del = await t.http
        .delete(`/api/v1/workspaces/${wsA.domain}/scim-tokens/${created.id}`)
        .set(adminA.auth);
      assert.equal(del.status, 204);
      assertScimError(await c.get('/Users'), 401);
      assert.equal(await t.db.getRepository(ScimToken).existsBy({ id: created.id }), false);
      // Another workspace's admin cannot revoke A's token (404, nothing deleted).
      const other = await newToken(adminA, wsA, 'kept');
      const r = await t.http
        .delete(`/api/v1/workspaces/${wsB.domain}/scim-tokens/${other.id}`)
        .set(adminB.auth);
      assert.equal(r.status, 404);
      assert.equal(await t.db.getRepository(ScimToken).existsBy({ id: other.id }), true);
      assert.ok(
        await t.db
          .getRepository(AuditEntry)
          .existsBy({ action: 'scim_token.revoke', targetId: wsA.id }),
      );
    });
  });

  describe('authentication and errors', () => {
    it('answers 401 in the SCIM error schema without a token, with a bad one, and with an API session', async () => {
      const none = await t.http.get('/scim/v2/Users');
      assertScimError(none, 401);
      assert.match(none.headers['www-authenticate'] ?? '', /^Bearer/);
      assertScimError(
        await t.http.get('/scim/v2/Users').set('Authorization', 'Bearer gths_nope'),
        401,
      );
      assertScimError(await t.http.get('/scim/v2/Users').set(adminA.auth), 401);
      assertScimError(await t.http.get('/scim/v2/Nothing/here'), 401);
    });

    it('answers unknown endpoints and ids with a SCIM 404', async () => {
      assertScimError(await a.get('/Nothing'), 404);
      assertScimError(await a.get('/Users/not-a-uuid'), 404);
      assertScimError(await a.get('/Users/0190a1b2-0000-7000-8000-000000000000'), 404);
      assertScimError(await a.get('/Groups/0190a1b2-0000-7000-8000-000000000000'), 404);
    });

    it('answers malformed JSON with 400 invalidSyntax', async () => {
      const res = await t.http
        .post('/scim/v2/Users')
        .set('Authorization', `Bearer ${tokenA}`)
        .set('Content-Type', 'application/scim+json')
        .send('{"userName": ');
      assertScimError(res, 400, 'invalidSyntax');
    });
  });

  describe('discovery', () => {
    it('serves ServiceProviderConfig, ResourceTypes and Schemas', async () => {
      const spc = await a.get('/ServiceProviderConfig');
      assert.equal(spc.status, 200);
      assert.match(spc.headers['content-type'] ?? '', /^application\/scim\+json/);
      assert.deepEqual(spc.body.patch, { supported: true });
      assert.deepEqual(spc.body.etag, { supported: true });
      assert.equal(spc.body.filter.supported, true);
      assert.equal(spc.body.changePassword.supported, false);
      const rts = list(await a.get('/ResourceTypes'), '');
      assert.deepEqual(rts.map((r) => r.id).sort(), ['Group', 'User']);
      const userType = await a.get('/ResourceTypes/User');
      assert.equal(userType.body.schema, USER);
      assert.deepEqual(userType.body.schemaExtensions, [{ schema: ENTERPRISE, required: false }]);
      const ids = list(await a.get('/Schemas'), '').map((s) => s.id);
      assert.deepEqual(ids.sort(), [GROUP, USER, ENTERPRISE].sort());
      assert.equal((await a.get(`/Schemas/${ENTERPRISE}`)).status, 200);
    });
  });

  describe("Entra ID's provisioning sequence", () => {
    it('creates, finds by userName, updates, disables with "False", and deletes a user', async () => {
      const upn = uniqueEmail('entra');
      const empty = list(
        await a.get(`/Users?filter=${encodeURIComponent(`userName eq "${upn}"`)}`),
        USER,
      );
      assert.deepEqual(empty, []);
      const created = await a.post('/Users', {
        schemas: [USER, ENTERPRISE],
        externalId: 'e-0a21f0f2',
        userName: upn,
        active: true,
        emails: [{ primary: true, type: 'work', value: upn }],
        meta: { resourceType: 'User' },
        name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
        roles: [],
        [ENTERPRISE]: { employeeNumber: '42', department: 'Engines', manager: { value: 'm-1' } },
      });
      assert.equal(created.status, 201, created.text);
      const u = user(created);
      assert.equal(created.headers.location, (u.meta as Json).location);
      assert.equal(created.headers.etag, (u.meta as Json).version);
      assert.equal(u.userName, upn);
      assert.equal(u.active, true);
      assert.deepEqual(u.name, {
        formatted: 'Ada Lovelace',
        familyName: 'Lovelace',
        givenName: 'Ada',
      });
      assert.deepEqual(u[ENTERPRISE], {
        employeeNumber: '42',
        department: 'Engines',
        manager: { value: 'm-1' },
      });
      const id = u.id as string;
      const account = await t.db.getRepository(User).findOneByOrFail({ id });
      assert.equal(account.emailNormalized, upn.toLowerCase());
      assert.equal(account.fullName, 'Ada Lovelace');
      assert.equal((await member(wsA.id, id))?.suspended, false);
      assert.ok(
        await t.db.getRepository(AuditEntry).existsBy({ action: 'scim.user_create', targetId: id }),
      );

      const found = list(
        await a.get(`/Users?filter=${encodeURIComponent(`userName eq "${upn.toUpperCase()}"`)}`),
        USER,
      );
      assert.deepEqual(
        found.map((x) => x.id),
        [id],
      );
      found.forEach((x) => validateResource(x, schemas, USER));
      user(await a.get(`/Users/${id}`));

      const updated = await a.patch(
        `/Users/${id}`,
        a.ops(
          { op: 'Add', path: 'name.givenName', value: 'Augusta' },
          { op: 'Replace', path: 'externalId', value: 'e-changed' },
          { op: 'Replace', path: 'title', value: 'Analyst' },
          { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Mathematics' },
          // Attributes not kept (Entra's default mapping sends them) are accepted and ignored.
          { op: 'Add', path: 'addresses[type eq "work"].streetAddress', value: '1 Way' },
          { op: 'Remove', path: 'phoneNumbers[type eq "mobile"]' },
        ),
      );
      assert.equal(updated.status, 200, updated.text);
      const v = user(updated);
      assert.equal((v.name as Json).givenName, 'Augusta');
      assert.equal(v.externalId, 'e-changed');
      assert.equal(v.title, 'Analyst');
      assert.equal((v[ENTERPRISE] as Json).department, 'Mathematics');
      const row = await t.db
        .getRepository(ScimUser)
        .findOneByOrFail({ workspaceId: wsA.id, userId: id });
      assert.equal(row.externalId, 'e-changed');
      assert.equal(row.department, 'Mathematics');

      const disabled = await a.patch(
        `/Users/${id}`,
        a.ops({ op: 'Replace', path: 'active', value: 'False' }),
      );
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(user(disabled).active, false);
      assert.equal((await member(wsA.id, id))?.suspended, true);
      // Entra's path-less form.
      const enabled = await a.patch(
        `/Users/${id}`,
        a.ops({ op: 'replace', value: { active: true } }),
      );
      assert.equal(user(enabled).active, true);
      assert.equal((await member(wsA.id, id))?.suspended, false);

      const gone = await a.del(`/Users/${id}`);
      assert.equal(gone.status, 204);
      assert.equal(await member(wsA.id, id), null);
      assert.equal(
        await t.db.getRepository(ScimUser).existsBy({ workspaceId: wsA.id, userId: id }),
        false,
      );
      assertScimError(await a.get(`/Users/${id}`), 404);
      assert.ok(await t.db.getRepository(User).existsBy({ id }), 'the account stays');
      assert.ok(
        await t.db.getRepository(AuditEntry).existsBy({
          action: 'workspace.member_remove',
          targetId: wsA.id,
          actorId: (
            await t.db
              .getRepository(ScimToken)
              .findOneByOrFail({ workspaceId: wsA.id, name: 'IdP' })
          ).id,
        }),
      );
    });

    it('creates a group, finds it by displayName, adds and removes members, renames and deletes it', async () => {
      const u1 = user(
        await a.post('/Users', { schemas: [USER], userName: uniqueEmail('g1'), active: true }),
      ).id as string;
      const u2 = user(
        await a.post('/Users', { schemas: [USER], userName: uniqueEmail('g2'), active: true }),
      ).id as string;
      const name = `Entra group ${u1.slice(-6)}`;
      const q = `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${name}"`)}`;
      assert.deepEqual(list(await a.get(q), GROUP), []);
      const created = await a.post('/Groups', {
        schemas: [GROUP],
        externalId: 'g-8aa1a0c0',
        displayName: name,
        meta: { resourceType: 'Group' },
        members: [],
      });
      assert.equal(created.status, 201, created.text);
      const g = group(created);
      const id = g.id as string;
      const found = list(await a.get(q), GROUP);
      assert.deepEqual(
        found.map((x) => x.id),
        [id],
      );
      assert.equal(found[0]?.members, undefined, 'members excluded');

      const added = await a.patch(
        `/Groups/${id}`,
        a.ops({ op: 'Add', path: 'members', value: [{ value: u1 }, { value: u2 }] }),
      );
      assert.equal(added.status, 200, added.text);
      assert.deepEqual(
        ((group(added).members as Json[]).map((m) => m.value) as string[]).sort(),
        [u1, u2].sort(),
      );
      const removed = await a.patch(
        `/Groups/${id}`,
        a.ops({ op: 'Remove', path: 'members', value: [{ value: u1 }] }),
      );
      assert.deepEqual(
        (group(removed).members as Json[]).map((m) => m.value),
        [u2],
      );
      const memberRows = await t.db.getRepository(GroupMember).findBy({ groupId: id });
      assert.deepEqual(
        memberRows.map((m) => m.userId),
        [u2],
      );
      const renamed = await a.patch(
        `/Groups/${id}`,
        a.ops({ op: 'Replace', path: 'displayName', value: `${name} renamed` }),
      );
      assert.equal(group(renamed).displayName, `${name} renamed`);
      assert.equal(
        (await t.db.getRepository(Group).findOneByOrFail({ id })).name,
        `${name} renamed`,
      );
      // A member who is not in the workspace cannot be added.
      const outsider = await makeUser(t);
      assertScimError(
        await a.patch(
          `/Groups/${id}`,
          a.ops({ op: 'Add', path: 'members', value: [{ value: outsider.user.id }] }),
        ),
        400,
        'invalidValue',
      );
      assert.equal(
        await t.db.getRepository(GroupMember).existsBy({ groupId: id, userId: outsider.user.id }),
        false,
      );
      assert.equal((await a.del(`/Groups/${id}`)).status, 204);
      assert.equal(await t.db.getRepository(Group).existsBy({ id }), false);
      assertScimError(await a.get(`/Groups/${id}`), 404);
    });
  });

  describe("Okta's provisioning sequence", () => {
    it('creates, reads, replaces with PUT, deactivates with a path-less replace, and manages groups', async () => {
      const login = uniqueEmail('okta');
      assert.equal(
        list(
          await a.get(
            `/Users?filter=${encodeURIComponent(`userName eq "${login}"`)}&startIndex=1&count=100`,
          ),
          USER,
        ).length,
        0,
      );
      const created = await a.post('/Users', {
        schemas: [USER],
        userName: login,
        name: { givenName: 'Grace', familyName: 'Hopper' },
        emails: [{ primary: true, value: login, type: 'work' }],
        displayName: 'Grace Hopper',
        locale: 'en-US',
        externalId: '00ujl29u0le5T6Aj10h7',
        groups: [],
        active: true,
      });
      assert.equal(created.status, 201, created.text);
      const id = user(created).id as string;
      const read = user(await a.get(`/Users/${id}`));
      const put = await a.put(`/Users/${id}`, {
        ...read,
        name: { givenName: 'Grace', familyName: 'Hopper', formatted: 'Rear Admiral Grace Hopper' },
        title: 'Rear Admiral',
      });
      assert.equal(put.status, 200, put.text);
      const p = user(put);
      assert.equal(p.title, 'Rear Admiral');
      assert.equal((p.name as Json).formatted, 'Rear Admiral Grace Hopper');
      const off = await a.patch(`/Users/${id}`, a.ops({ op: 'replace', value: { active: false } }));
      assert.equal(user(off).active, false);
      assert.equal((await member(wsA.id, id))?.suspended, true);

      const g = group(
        await a.post('/Groups', {
          schemas: [GROUP],
          displayName: `Okta ${id.slice(-8)}`,
          members: [],
        }),
      );
      const gid = g.id as string;
      const renamed = await a.patch(
        `/Groups/${gid}`,
        a.ops({ op: 'replace', value: { id: gid, displayName: `Okta renamed ${id.slice(-8)}` } }),
      );
      assert.equal(group(renamed).displayName, `Okta renamed ${id.slice(-8)}`);
      const add = await a.patch(
        `/Groups/${gid}`,
        a.ops({ op: 'add', path: 'members', value: [{ value: id, display: login }] }),
      );
      assert.deepEqual(
        (group(add).members as Json[]).map((m) => m.value),
        [id],
      );
      const rm = await a.patch(
        `/Groups/${gid}`,
        a.ops({ op: 'remove', path: `members[value eq "${id}"]` }),
      );
      assert.deepEqual(group(rm).members, []);
      const putGroup = await a.put(`/Groups/${gid}`, {
        schemas: [GROUP],
        displayName: `Okta put ${id.slice(-8)}`,
        members: [{ value: id }],
      });
      assert.deepEqual(
        (group(putGroup).members as Json[]).map((m) => m.value),
        [id],
      );
      assert.ok(await t.db.getRepository(GroupMember).existsBy({ groupId: gid, userId: id }));
      assert.equal((await a.del(`/Groups/${gid}`)).status, 204);
      assert.equal((await a.del(`/Users/${id}`)).status, 204);
    });

    it('refuses a password (400 mutability) and writes nothing', async () => {
      const login = uniqueEmail('pw');
      assertScimError(
        await a.post('/Users', {
          schemas: [USER],
          userName: login,
          password: 't1meMa$heen',
          active: true,
        }),
        400,
        'mutability',
      );
      assert.equal(await t.db.getRepository(User).existsBy({ emailNormalized: login }), false);
      const id = user(await a.post('/Users', { schemas: [USER], userName: uniqueEmail('pw2') }))
        .id as string;
      assertScimError(
        await a.patch(`/Users/${id}`, a.ops({ op: 'replace', path: 'password', value: 'x' })),
        400,
        'mutability',
      );
    });
  });

  describe('errors', () => {
    it('answers 409 uniqueness for a member, 400 invalidValue for bad values, 400 for a bad PatchOp', async () => {
      const login = uniqueEmail('dup');
      const id = user(await a.post('/Users', { schemas: [USER], userName: login })).id as string;
      assertScimError(
        await a.post('/Users', { schemas: [USER], userName: login.toUpperCase() }),
        409,
        'uniqueness',
      );
      assertScimError(
        await a.post('/Users', { schemas: [USER], userName: 'not an email' }),
        400,
        'invalidValue',
      );
      assertScimError(await a.post('/Users', { schemas: [USER] }), 400, 'invalidValue');
      assertScimError(
        await a.patch(`/Users/${id}`, a.ops({ op: 'replace', path: 'active', value: 'maybe' })),
        400,
        'invalidValue',
      );
      assertScimError(await a.patch(`/Users/${id}`, { Operations: [] }), 400, 'invalidSyntax');
      assertScimError(
        await a.patch(`/Users/${id}`, a.ops({ op: 'jump', path: 'active' })),
        400,
        'invalidSyntax',
      );
      assertScimError(
        await a.patch(`/Users/${id}`, a.ops({ op: 'replace', path: 'id', value: 'x' })),
        400,
        'mutability',
      );
      assertScimError(await a.post('/Groups', { schemas: [GROUP] }), 400, 'invalidValue');
      assertScimError(await a.get('/Users?sortBy=password'), 400, 'invalidValue');
      assertScimError(await a.get('/Users?count=abc'), 400, 'invalidValue');
      const g = `Dup ${id.slice(-8)}`;
      group(await a.post('/Groups', { schemas: [GROUP], displayName: g }));
      assertScimError(
        await a.post('/Groups', { schemas: [GROUP], displayName: g.toUpperCase() }),
        409,
        'uniqueness',
      );
    });

    it('checks If-Match: 412 on a stale version, success on the current one', async () => {
      const created = await a.post('/Users', { schemas: [USER], userName: uniqueEmail('etag') });
      const u = user(created);
      const id = u.id as string;
      const v1 = created.headers.etag as string;
      const got = await a.get(`/Users/${id}`);
      assert.equal(got.headers.etag, v1);
      const changed = await a.patch(
        `/Users/${id}`,
        a.ops({ op: 'replace', path: 'title', value: 'One' }),
        { 'If-Match': v1 },
      );
      assert.equal(changed.status, 200, changed.text);
      const v2 = changed.headers.etag as string;
      assert.notEqual(v2, v1);
      assertScimError(
        await a.patch(`/Users/${id}`, a.ops({ op: 'replace', path: 'title', value: 'Two' }), {
          'If-Match': v1,
        }),
        412,
      );
      assertScimError(await a.put(`/Users/${id}`, { ...u, title: 'Two' }, { 'If-Match': v1 }), 412);
      assertScimError(await a.del(`/Users/${id}`, { 'If-Match': v1 }), 412);
      assert.equal(
        (await t.db.getRepository(ScimUser).findOneByOrFail({ workspaceId: wsA.id, userId: id }))
          .title,
        'One',
      );
      assert.equal((await a.del(`/Users/${id}`, { 'If-Match': v2 })).status, 204);
    });
  });

  describe('filters, paging, sorting, attribute selection', () => {
    let ids: Record<string, string>;
    const mark = `f${Date.now().toString(36)}`;

    before(async () => {
      ids = {};
      const people: [string, Json][] = [
        [
          'alice',
          { displayName: 'Alice Zed', title: 'Engineer', [ENTERPRISE]: { department: 'R&D' } },
        ],
        ['bob', { displayName: 'Bob Young', title: 'Manager' }],
        ['carol', { displayName: 'Carol Xu', [ENTERPRISE]: { department: 'R&D' } }],
        ['dave', { displayName: 'Dave Wu', title: 'engineer', active: false }],
      ];
      for (const [n, extra] of people) {
        const r = await a.post('/Users', {
          schemas: [USER, ENTERPRISE],
          userName: `${n}.${mark}@example.test`,
          externalId: `${mark}-${n.toUpperCase()}`,
          ...extra,
        });
        ids[n] = user(r).id as string;
      }
    });

    const q = async (filter: string, extra = ''): Promise<string[]> => {
      const r = await a.get(`/Users?filter=${encodeURIComponent(filter)}${extra}`);
      return list(r, USER).map((x) => x.id as string);
    };
    const names = (found: string[]): string[] =>
      Object.entries(ids)
        .filter(([, id]) => found.includes(id))
        .map(([n]) => n)
        .sort();

    it('supports and, or, not, grouping, pr, co, sw, ew', async () => {
      const mine = `userName ew "${mark}@example.test"`;
      assert.deepEqual(names(await q(mine)), ['alice', 'bob', 'carol', 'dave']);
      assert.deepEqual(names(await q(`${mine} and title eq "ENGINEER"`)), ['alice', 'dave']);
      assert.deepEqual(names(await q(`${mine} and (title eq "manager" or displayName sw "car")`)), [
        'bob',
        'carol',
      ]);
      assert.deepEqual(names(await q(`${mine} and not (title pr)`)), ['carol']);
      assert.deepEqual(names(await q(`${mine} and title pr and not (active eq false)`)), [
        'alice',
        'bob',
      ]);
      assert.deepEqual(names(await q(`${mine} and displayName co "u"`)), ['bob', 'carol', 'dave']);
      assert.deepEqual(
        names(await q(`${mine} and displayName co "U" and not (displayName ew "u")`)),
        ['bob'],
      );
      assert.deepEqual(names(await q(`userName sw "alice.${mark}"`)), ['alice']);
      assert.deepEqual(names(await q(`${mine} and ${ENTERPRISE}:department eq "r&d"`)), [
        'alice',
        'carol',
      ]);
      assert.deepEqual(names(await q(`emails[type eq "work" and value sw "bob.${mark}"]`)), [
        'bob',
      ]);
      // externalId is case-exact.
      assert.deepEqual(names(await q(`externalId eq "${mark}-ALICE"`)), ['alice']);
      assert.deepEqual(names(await q(`externalId eq "${mark}-alice"`)), []);
      assert.deepEqual(names(await q(`externalId sw "${mark}-C"`)), ['carol']);
      assert.deepEqual(names(await q(`externalId sw "${mark}-c"`)), []);
      // LIKE wildcards in values are literals.
      assert.deepEqual(names(await q(`${mine} and displayName co "%"`)), []);
      assert.deepEqual(names(await q(`${mine} and ${ENTERPRISE}:department co "&"`)), [
        'alice',
        'carol',
      ]);
    });

    it('compares meta.lastModified with gt/ge/lt', async () => {
      const before = await a.get(`/Users/${ids.dave}`);
      const stamp = (before.body.meta as Json).lastModified as string;
      await a.patch(
        `/Users/${ids.bob}`,
        a.ops({ op: 'replace', path: 'title', value: 'Director' }),
      );
      const mine = `userName ew "${mark}@example.test"`;
      assert.deepEqual(names(await q(`${mine} and meta.lastModified gt "${stamp}"`)), ['bob']);
      assert.deepEqual(
        names(await q(`${mine} and meta.lastModified le "${stamp}"`)).includes('bob'),
        false,
      );
      assert.deepEqual(names(await q(`${mine} and meta.created ge "2000-01-01T00:00:00Z"`)), [
        'alice',
        'bob',
        'carol',
        'dave',
      ]);
    });

    it('answers 400 invalidFilter for unknown attributes, bad syntax and bad values', async () => {
      assertScimError(
        await a.get(`/Users?filter=${encodeURIComponent('nickName eq "x"')}`),
        400,
        'invalidFilter',
      );
      assertScimError(
        await a.get(`/Users?filter=${encodeURIComponent('password eq "x"')}`),
        400,
        'invalidFilter',
      );
      assertScimError(
        await a.get(`/Users?filter=${encodeURIComponent('userName eq')}`),
        400,
        'invalidFilter',
      );
      assertScimError(
        await a.get(`/Users?filter=${encodeURIComponent('active eq "yes"')}`),
        400,
        'invalidFilter',
      );
      assertScimError(
        await a.get(`/Users?filter=${encodeURIComponent('meta.lastModified gt "yesterday"')}`),
        400,
        'invalidFilter',
      );
      assertScimError(
        await a.get(`/Groups?filter=${encodeURIComponent('title eq "x"')}`),
        400,
        'invalidFilter',
      );
    });

    it('pages with startIndex and count, and sorts', async () => {
      const mine = encodeURIComponent(`userName ew "${mark}@example.test"`);
      const asc = await a.get(`/Users?filter=${mine}&sortBy=displayName&sortOrder=ascending`);
      assert.deepEqual(
        list(asc, USER).map((x) => x.displayName),
        ['Alice Zed', 'Bob Young', 'Carol Xu', 'Dave Wu'],
      );
      const desc = await a.get(`/Users?filter=${mine}&sortBy=userName&sortOrder=descending`);
      assert.deepEqual(
        list(desc, USER).map((x) => (x.userName as string).split('.')[0]),
        ['dave', 'carol', 'bob', 'alice'],
      );
      const page = await a.get(`/Users?filter=${mine}&sortBy=displayName&startIndex=2&count=2`);
      assert.deepEqual(
        list(page, USER).map((x) => x.displayName),
        ['Bob Young', 'Carol Xu'],
      );
      assert.equal(page.body.totalResults, 4);
      assert.equal(page.body.startIndex, 2);
      const none = await a.get(`/Users?filter=${mine}&count=0`);
      assert.deepEqual(list(none, USER), []);
      assert.equal(none.body.totalResults, 4);
      const search = await a.post('/Users/.search', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: `userName ew "${mark}@example.test"`,
        sortBy: 'displayName',
        startIndex: 4,
        count: 10,
        attributes: ['userName'],
      });
      assert.deepEqual(
        list(search, USER).map((x) => Object.keys(x).sort()),
        [['id', 'schemas', 'userName']],
      );
    });

    it('returns only the attributes asked for, or all but the excluded ones', async () => {
      const only = await a.get(
        `/Users/${ids.alice}?attributes=userName,name.givenName,${ENTERPRISE}:department`,
      );
      assert.deepEqual(
        Object.keys(only.body).sort(),
        ['id', 'schemas', 'userName', ENTERPRISE].sort(),
      );
      assert.deepEqual(only.body[ENTERPRISE], { department: 'R&D' });
      const without = await a.get(`/Users/${ids.alice}?excludedAttributes=emails,meta,title`);
      assert.equal(without.body.emails, undefined);
      assert.equal(without.body.meta, undefined);
      assert.equal(without.body.title, undefined);
      assert.equal(without.body.displayName, 'Alice Zed');
    });
  });

  describe('isolation between workspaces', () => {
    it('a token of workspace B sees and changes nothing of workspace A', async () => {
      const id = user(await a.post('/Users', { schemas: [USER], userName: uniqueEmail('iso') }))
        .id as string;
      const gid = group(
        await a.post('/Groups', {
          schemas: [GROUP],
          displayName: `Iso ${id.slice(-8)}`,
          members: [{ value: id }],
        }),
      ).id as string;
      assertScimError(await b.get(`/Users/${id}`), 404);
      assertScimError(await b.get(`/Groups/${gid}`), 404);
      assertScimError(
        await b.patch(`/Users/${id}`, b.ops({ op: 'replace', path: 'active', value: false })),
        404,
      );
      assertScimError(
        await b.put(`/Groups/${gid}`, { schemas: [GROUP], displayName: 'Taken over', members: [] }),
        404,
      );
      assertScimError(await b.del(`/Users/${id}`), 404);
      assertScimError(await b.del(`/Groups/${gid}`), 404);
      const listedB = list(
        await b.get(`/Users?filter=${encodeURIComponent(`id eq "${id}"`)}`),
        USER,
      );
      assert.deepEqual(listedB, []);
      assert.ok(!list(await b.get('/Groups?count=200'), GROUP).some((g) => g.id === gid));
      // B cannot put A's member into B's group either.
      assertScimError(
        await b.post('/Groups', {
          schemas: [GROUP],
          displayName: 'B grab',
          members: [{ value: id }],
        }),
        400,
        'invalidValue',
      );
      assert.equal((await member(wsA.id, id))?.suspended, false);
      assert.ok(await t.db.getRepository(GroupMember).existsBy({ groupId: gid, userId: id }));
      assert.equal(await member(wsB.id, id), null);
    });

    it('suspending in A leaves sign-in, sessions and the membership in B intact', async () => {
      const person = await makeUser(t, { fullName: 'Shared Person' });
      await setWorkspaceRole(t, adminB.auth, wsB.domain, person.user.id, 'user');
      // POST of an existing account that is not a member: added to A (201), the account unchanged.
      const added = await a.post('/Users', {
        schemas: [USER],
        userName: person.email,
        displayName: 'Renamed By A',
        name: { givenName: 'Renamed' },
        active: true,
      });
      assert.equal(added.status, 201, added.text);
      assert.equal(user(added).id, person.user.id);
      const account = await t.db.getRepository(User).findOneByOrFail({ id: person.user.id });
      assert.equal(account.fullName, 'Shared Person');
      assert.equal(account.email, person.email);
      assert.ok(await t.http.get(`/api/v1/workspaces/${wsA.domain}`).set(person.auth).expect(200));
      // A project of A where the person is a member, and a project of B.
      const projectA = await createProject(t, adminA.auth, wsA.domain);
      await addProjectMember(t, adminA.auth, projectA.id, {
        role: 'member',
        userId: person.user.id,
      });
      const projectB = await createProject(t, adminB.auth, wsB.domain);
      await addProjectMember(t, adminB.auth, projectB.id, {
        role: 'member',
        userId: person.user.id,
      });
      assert.equal(
        (await t.http.get(`/api/v1/projects/${projectA.id}`).set(person.auth)).status,
        200,
      );

      // A may not change the shared account's email (another workspace's member, not created by A).
      assertScimError(
        await a.patch(
          `/Users/${person.user.id}`,
          a.ops({ op: 'replace', path: 'userName', value: uniqueEmail('hijack') }),
        ),
        400,
        'mutability',
      );
      assertScimError(
        await a.patch(
          `/Users/${person.user.id}`,
          a.ops({
            op: 'replace',
            path: 'emails[type eq "work"].value',
            value: uniqueEmail('hijack'),
          }),
        ),
        400,
        'mutability',
      );
      const renamed = await a.patch(
        `/Users/${person.user.id}`,
        a.ops({ op: 'replace', path: 'displayName', value: 'Only In A' }),
      );
      assert.equal(user(renamed).displayName, 'Only In A');
      assert.equal(
        (await t.db.getRepository(User).findOneByOrFail({ id: person.user.id })).fullName,
        'Shared Person',
      );

      const off = await a.patch(
        `/Users/${person.user.id}`,
        a.ops({ op: 'Replace', path: 'active', value: 'False' }),
      );
      assert.equal(user(off).active, false);
      // Every access through A ends at the next request...
      assert.equal(
        (await t.http.get(`/api/v1/workspaces/${wsA.domain}`).set(person.auth)).status,
        404,
      );
      const mine = await t.http.get('/api/v1/workspaces').set(person.auth);
      const domains = (mine.body.items as Json[]).map((w) => w.domain);
      assert.ok(!domains.includes(wsA.domain));
      assert.ok(domains.includes(wsB.domain));
      // No project role reaches them through A; B's project is untouched.
      assert.equal(
        (await t.http.get(`/api/v1/projects/${projectA.id}`).set(person.auth)).status,
        404,
      );
      assert.equal(
        (await t.http.get(`/api/v1/projects/${projectB.id}`).set(person.auth)).status,
        200,
      );
      const projects = await t.http.get('/api/v1/projects').set(person.auth);
      const projectIds = (projects.body.items as Json[]).map((p) => p.id);
      assert.ok(!projectIds.includes(projectA.id));
      assert.ok(projectIds.includes(projectB.id));
      // ...while the session, the password and workspace B are untouched.
      assert.equal((await t.http.get('/api/v1/auth/whoami').set(person.auth)).status, 200);
      assert.equal(
        (await t.http.get(`/api/v1/workspaces/${wsB.domain}`).set(person.auth)).status,
        200,
      );
      const login = await t.http
        .post('/api/v1/auth/login')
        .send({ username: person.email, password: PASSWORD });
      assert.equal(login.status, 200, login.text);
      assert.equal((await member(wsA.id, person.user.id))?.suspended, true);
      const inB = await member(wsB.id, person.user.id);
      assert.equal(inB?.suspended, false);
      assert.equal(inB?.role, 'user');
      const after = await t.db.getRepository(User).findOneByOrFail({ id: person.user.id });
      assert.equal(after.status, 'active');
      assert.equal(after.email, person.email);

      // DELETE removes them from A only.
      assert.equal((await a.del(`/Users/${person.user.id}`)).status, 204);
      assert.equal(await member(wsA.id, person.user.id), null);
      assert.equal((await member(wsB.id, person.user.id))?.suspended, false);
      assert.equal(
        (await t.http.get(`/api/v1/workspaces/${wsB.domain}`).set(person.auth)).status,
        200,
      );
    });

    it("changes an account's email only while A's SCIM created it and it belongs to A alone", async () => {
      const first = uniqueEmail('owned');
      const id = user(
        await a.post('/Users', { schemas: [USER], userName: first, displayName: 'Owned One' }),
      ).id as string;
      const second = uniqueEmail('owned2');
      const changed = await a.patch(
        `/Users/${id}`,
        a.ops({ op: 'replace', path: 'userName', value: second }),
      );
      assert.equal(changed.status, 200, changed.text);
      assert.equal(user(changed).userName, second);
      const row = await t.db.getRepository(User).findOneByOrFail({ id });
      assert.equal(row.emailNormalized, second);
      await setWorkspaceRole(t, adminB.auth, wsB.domain, id, 'user');
      assertScimError(
        await a.patch(
          `/Users/${id}`,
          a.ops({ op: 'replace', path: 'userName', value: uniqueEmail('owned3') }),
        ),
        400,
        'mutability',
      );
      assert.equal(
        (await t.db.getRepository(User).findOneByOrFail({ id })).emailNormalized,
        second,
      );
      // Another account's email is taken: 409 uniqueness.
      const solo = user(await a.post('/Users', { schemas: [USER], userName: uniqueEmail('solo') }))
        .id as string;
      assertScimError(
        await a.patch(
          `/Users/${solo}`,
          a.ops({ op: 'replace', path: 'userName', value: adminA.email }),
        ),
        409,
        'uniqueness',
      );
    });
  });
});

describe('SCIM throttling', () => {
  let t: TestApp;
  after(async () => t?.close());

  it('limits requests per token (429 SCIM error with Retry-After), other tokens unaffected', async () => {
    t = await createTestApp({ RATE_LIMIT_SCIM: '3' });
    const admin = await makeUser(t);
    const ws = await createWorkspace(t, admin.auth);
    const mint = async () =>
      ok<{ token: string }>(
        t.http
          .post(`/api/v1/workspaces/${ws.domain}/scim-tokens`)
          .set(admin.auth)
          .send({ name: 'x' }),
        201,
        'token',
      );
    const c = scimClient(t, (await mint()).token);
    for (let i = 0; i < 3; i += 1) assert.equal((await c.get('/Users')).status, 200);
    const res = await c.get('/Users');
    assertScimError(res, 429);
    assert.match(res.headers['retry-after'] ?? '', /^\d+$/);
    const other = scimClient(t, (await mint()).token);
    assert.equal((await other.get('/Users')).status, 200);
  });
});
