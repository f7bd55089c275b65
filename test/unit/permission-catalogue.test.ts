import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { PROJECT_PERMISSION_TYPES } from '#src/tenancy/access/project-roles.js';

const SERVER = [
  'audit.read',
  'credentials.create',
  'roles.manage',
  'users.manage',
  'users.read',
  'workspaces.create',
  'workspaces.manage',
];
const sorted = (xs: string[]) => [...xs].sort();

describe(PermissionCatalogue.name, () => {
  it('lists the server permission types by name, each scoped to the server', () => {
    const list = new PermissionCatalogue().list();
    assert.deepEqual(
      list.map((p) => p.name),
      SERVER,
    );
    assert.ok(list.every((p) => p.scope === 'server' && p.description.length > 0));
  });

  it('adds registered types to the list in name order', () => {
    const c = new PermissionCatalogue();
    c.register(PROJECT_PERMISSION_TYPES);
    const names = c.list().map((p) => p.name);
    assert.equal(names.length, SERVER.length + PROJECT_PERMISSION_TYPES.length);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => a.localeCompare(b)),
    );
    assert.equal(c.list().find((p) => p.name === 'items.write')?.scope, 'project');
  });

  it('replaces a type registered again under the same name', () => {
    const c = new PermissionCatalogue();
    c.register([{ name: 'users.read', description: 'changed', scope: 'server' }]);
    const same = c.list().filter((p) => p.name === 'users.read');
    assert.deepEqual(same, [{ name: 'users.read', description: 'changed', scope: 'server' }]);
  });

  it('keeps registrations to its own instance', () => {
    new PermissionCatalogue().register(PROJECT_PERMISSION_TYPES);
    assert.equal(new PermissionCatalogue().isKnown('items.read'), false);
  });

  describe('isKnown', () => {
    const c = new PermissionCatalogue();
    c.register(PROJECT_PERMISSION_TYPES);

    it('knows every listed name', () => {
      for (const p of c.list()) assert.equal(c.isKnown(p.name), true, p.name);
    });

    it('knows * and wildcards that cover at least one type', () => {
      assert.equal(c.isKnown('*'), true);
      assert.equal(c.isKnown('users.*'), true);
      assert.equal(c.isKnown('projects.members.*'), true);
    });

    it('does not know unknown names or wildcards that cover nothing', () => {
      assert.equal(c.isKnown('users.delete'), false);
      assert.equal(c.isKnown('users'), false);
      assert.equal(c.isKnown('billing.*'), false);
      assert.equal(c.isKnown('users.read.*.x'), false);
      assert.equal(c.isKnown(''), false);
    });
  });

  describe('page', () => {
    it('pages the list by name with a cursor', () => {
      const c = new PermissionCatalogue();
      const first = c.page(3);
      assert.deepEqual(
        first.items.map((p) => p.name),
        SERVER.slice(0, 3),
      );
      assert.ok(first.nextCursor);
      const second = c.page(10, first.nextCursor);
      assert.deepEqual(
        second.items.map((p) => p.name),
        SERVER.slice(3),
      );
      assert.equal(second.nextCursor, null);
    });

    it('refuses a cursor it did not issue', () => {
      assert.throws(() => new PermissionCatalogue().page(3, 'not-a-cursor'), {
        name: 'AppException',
        code: 'validation_failed',
      });
    });
  });

  describe('serverPermissions', () => {
    const c = new PermissionCatalogue();

    it('gives an admin everything', () => {
      assert.deepEqual(c.serverPermissions('admin', []), ['*']);
    });

    it('gives a user the right to create workspaces and credentials', () => {
      assert.deepEqual(sorted(c.serverPermissions('user', [])), [
        'credentials.create',
        'workspaces.create',
      ]);
    });

    it('gives reader and demo nothing of their own', () => {
      assert.deepEqual(c.serverPermissions('reader', []), []);
      assert.deepEqual(c.serverPermissions('demo', []), []);
    });

    it('adds the permissions of named roles, once each', () => {
      assert.deepEqual(sorted(c.serverPermissions('user', ['users.read', 'workspaces.create'])), [
        'credentials.create',
        'users.read',
        'workspaces.create',
      ]);
      assert.deepEqual(sorted(c.serverPermissions('admin', ['users.read'])), ['*', 'users.read']);
    });

    for (const role of ['reader', 'demo'] as const) {
      it(`keeps only the reads of named roles for ${role}`, () => {
        assert.deepEqual(
          sorted(c.serverPermissions(role, ['users.read', 'audit.read', 'users.manage', '*'])),
          ['audit.read', 'users.read'],
        );
      });
    }

    it('passes through names it does not know (checked when a role is saved, not here)', () => {
      assert.deepEqual(sorted(c.serverPermissions('user', ['billing.manage'])), [
        'billing.manage',
        'credentials.create',
        'workspaces.create',
      ]);
    });
  });
});
