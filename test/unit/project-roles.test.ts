import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_PROJECT_PERMISSIONS,
  cappedRolePermissions,
  evaluate,
  holdsRole,
  ROLE_PERMISSIONS,
  type PermissionSource,
} from '#src/tenancy/access/project-roles.js';

const READER = ['projects.read', 'projects.members.read', 'items.read'];
const MEMBER_ONLY = ['items.write', 'items.delete'];
const ADMIN_ONLY = ['projects.update', 'projects.delete', 'projects.members.manage'];
const sorted = (xs: readonly string[]) => [...xs].sort();

const direct = (role: 'reader' | 'member' | 'admin'): PermissionSource => ({
  kind: 'direct',
  role,
});
const group = (role: 'reader' | 'member' | 'admin', name = 'Ops'): PermissionSource => ({
  kind: 'group',
  role,
  groupId: `g-${name}`,
  groupName: name,
});
const workspaceAdmin: PermissionSource = { kind: 'workspace', role: 'admin' };
const serverAdmin: PermissionSource = { kind: 'server', role: 'admin' };

describe('project roles', () => {
  it('rank reader below member below admin, each holding everything below it', () => {
    assert.deepEqual(sorted(ROLE_PERMISSIONS.reader), sorted(READER));
    assert.deepEqual(sorted(ROLE_PERMISSIONS.member), sorted([...READER, ...MEMBER_ONLY]));
    assert.deepEqual(
      sorted(ROLE_PERMISSIONS.admin),
      sorted([...READER, ...MEMBER_ONLY, ...ADMIN_ONLY]),
    );
    assert.deepEqual(sorted(ROLE_PERMISSIONS.admin), sorted(ALL_PROJECT_PERMISSIONS));
  });
});

describe('evaluate', () => {
  it('grants nothing without a source', () => {
    assert.deepEqual(evaluate([], 'admin'), { permissions: [], sources: [], explain: [] });
  });

  it('grants a direct role its permissions', () => {
    assert.deepEqual(sorted(evaluate([direct('reader')], 'user').permissions), sorted(READER));
    assert.deepEqual(
      sorted(evaluate([direct('member')], 'user').permissions),
      sorted([...READER, ...MEMBER_ONLY]),
    );
  });

  it('grants a group role its permissions', () => {
    assert.deepEqual(sorted(evaluate([group('reader')], 'user').permissions), sorted(READER));
  });

  it('grants every project permission to a workspace admin and a server admin', () => {
    for (const s of [workspaceAdmin, serverAdmin])
      assert.deepEqual(evaluate([s], 'user').permissions, [...ALL_PROJECT_PERMISSIONS], s.kind);
  });

  it('takes the union of several sources', () => {
    const r = evaluate([direct('reader'), group('member'), group('reader', 'Other')], 'user');
    assert.deepEqual(sorted(r.permissions), sorted([...READER, ...MEMBER_ONLY]));
  });

  it('lists permissions in catalogue order whatever the order of the sources', () => {
    const a = evaluate([group('member'), direct('admin')], 'user').permissions;
    const b = evaluate([direct('admin'), group('member')], 'user').permissions;
    assert.deepEqual(a, [...ALL_PROJECT_PERMISSIONS]);
    assert.deepEqual(b, a);
  });

  for (const role of ['reader', 'demo'] as const) {
    it(`caps the ${role} server role to reads whatever the source`, () => {
      for (const s of [direct('admin'), group('admin'), workspaceAdmin, serverAdmin])
        assert.deepEqual(sorted(evaluate([s], role).permissions), sorted(READER), s.kind);
    });
  }

  for (const role of ['user', 'admin'] as const) {
    it(`does not cap the ${role} server role`, () => {
      assert.deepEqual(evaluate([direct('admin')], role).permissions, [...ALL_PROJECT_PERMISSIONS]);
      assert.ok(evaluate([direct('admin')], role).explain.every((e) => e.cappedBy === null));
    });
  }

  it('explains each permission a source grants, with its sources', () => {
    const sources = [direct('reader'), group('member')];
    const r = evaluate(sources, 'user');
    assert.equal(r.sources, sources);
    assert.deepEqual(
      r.explain.map((e) => e.permission),
      r.permissions,
      'one explanation per granted permission, nothing for what no source grants',
    );
    assert.deepEqual(
      r.explain.find((e) => e.permission === 'items.read'),
      {
        permission: 'items.read',
        granted: true,
        sources: [direct('reader'), group('member')],
        cappedBy: null,
      },
    );
    assert.deepEqual(
      r.explain.find((e) => e.permission === 'items.write'),
      {
        permission: 'items.write',
        granted: true,
        sources: [group('member')],
        cappedBy: null,
      },
    );
    assert.equal(
      r.explain.find((e) => e.permission === 'projects.delete'),
      undefined,
    );
  });

  it('explains a permission withheld by the server role as capped', () => {
    const r = evaluate([direct('member')], 'demo');
    assert.deepEqual(
      r.explain.find((e) => e.permission === 'items.write'),
      {
        permission: 'items.write',
        granted: false,
        sources: [direct('member')],
        cappedBy: { kind: 'server-role', role: 'demo' },
      },
    );
    assert.equal(r.permissions.includes('items.write'), false);
    assert.equal(r.explain.find((e) => e.permission === 'items.read')?.cappedBy, null);
  });
});

describe('cappedRolePermissions', () => {
  it('gives a role its permissions under a writing server role or none known', () => {
    assert.deepEqual(cappedRolePermissions('admin', 'user'), [...ROLE_PERMISSIONS.admin]);
    assert.deepEqual(cappedRolePermissions('member', null), [...ROLE_PERMISSIONS.member]);
  });

  it('keeps only reads under a reader or demo server role', () => {
    assert.deepEqual(sorted(cappedRolePermissions('admin', 'reader')), sorted(READER));
    assert.deepEqual(sorted(cappedRolePermissions('member', 'demo')), sorted(READER));
  });
});

describe('holdsRole', () => {
  it('is true when the held permissions cover every permission of the role', () => {
    assert.equal(holdsRole(['*'], 'admin'), true);
    assert.equal(holdsRole(ROLE_PERMISSIONS.member, 'member'), true);
    assert.equal(holdsRole(ROLE_PERMISSIONS.member, 'reader'), true);
    assert.equal(holdsRole(['projects.*', 'items.*'], 'admin'), true);
  });

  it('is false when one permission of the role is missing', () => {
    assert.equal(holdsRole(ROLE_PERMISSIONS.member, 'admin'), false);
    assert.equal(holdsRole(READER, 'member'), false);
    assert.equal(holdsRole(['projects.read', 'items.read'], 'reader'), false);
    assert.equal(holdsRole([], 'reader'), false);
  });
});
