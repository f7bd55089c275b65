import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  grantProjectPermissions,
  isNarrowed,
  narrowingAllowsTenancyWrites,
  narrowProjectPermissions,
  narrowServerPermissions,
  type Narrowing,
} from '#src/kernel/narrowing.js';

const none: Narrowing = { scopes: null, projectPermissions: null };
const sorted = (xs: string[]) => [...xs].sort();
const MEMBER = [
  'projects.read',
  'projects.members.read',
  'items.read',
  'items.write',
  'items.delete',
];

describe('narrowServerPermissions', () => {
  it('returns a copy of what is held when there are no scopes', () => {
    const held = ['users.read', 'workspaces.create'];
    const out = narrowServerPermissions(held, null);
    assert.deepEqual(out, held);
    assert.notEqual(out, held);
  });

  it('intersects what is held with the scopes', () => {
    assert.deepEqual(narrowServerPermissions(['*'], ['users.read']), ['users.read']);
    assert.deepEqual(
      narrowServerPermissions(['workspaces.create', 'credentials.create'], ['workspaces.*']),
      ['workspaces.create'],
    );
  });

  it('leaves nothing when the scopes are empty', () => {
    assert.deepEqual(narrowServerPermissions(['*'], []), []);
  });
});

describe('narrowProjectPermissions', () => {
  it('passes everything held through an unnarrowed credential', () => {
    assert.deepEqual(narrowProjectPermissions(none, 'p1', MEMBER), MEMBER);
  });

  it('narrows by an API key scopes', () => {
    const n: Narrowing = { scopes: ['items.read', 'projects.read'], projectPermissions: null };
    assert.deepEqual(sorted(narrowProjectPermissions(n, 'p1', MEMBER)), [
      'items.read',
      'projects.read',
    ]);
  });

  it('narrows by the grant project permissions of that project only', () => {
    const n: Narrowing = {
      scopes: null,
      projectPermissions: { p1: ['items.*', 'projects.read'], p2: ['projects.read'] },
    };
    assert.deepEqual(sorted(narrowProjectPermissions(n, 'p1', MEMBER)), [
      'items.delete',
      'items.read',
      'items.write',
      'projects.read',
    ]);
    assert.deepEqual(narrowProjectPermissions(n, 'p2', MEMBER), ['projects.read']);
  });

  it('leaves nothing in a project the grant does not name', () => {
    const n: Narrowing = { scopes: null, projectPermissions: { p1: ['*'] } };
    assert.deepEqual(narrowProjectPermissions(n, 'p2', MEMBER), []);
  });

  it('applies scopes and project permissions together', () => {
    const n: Narrowing = {
      scopes: ['projects.read', 'items.write'],
      projectPermissions: { p1: ['items.*', 'projects.read', 'projects.members.read'] },
    };
    assert.deepEqual(sorted(narrowProjectPermissions(n, 'p1', MEMBER)), [
      'items.write',
      'projects.read',
    ]);
  });

  it('never adds what is not held', () => {
    const n: Narrowing = { scopes: ['*'], projectPermissions: { p1: ['projects.delete'] } };
    assert.deepEqual(narrowProjectPermissions(n, 'p1', MEMBER), []);
  });
});

describe('isNarrowed', () => {
  it('is false only when neither scopes nor project permissions are set', () => {
    assert.equal(isNarrowed(none), false);
    assert.equal(isNarrowed({ scopes: [], projectPermissions: null }), true);
    assert.equal(isNarrowed({ scopes: null, projectPermissions: {} }), true);
  });
});

describe('narrowingAllowsTenancyWrites', () => {
  it('allows an unnarrowed credential', () => {
    assert.equal(narrowingAllowsTenancyWrites(none), true);
  });

  it('allows a key whose scopes cover workspaces.manage', () => {
    for (const scope of ['*', 'workspaces.*', 'workspaces.manage'])
      assert.equal(
        narrowingAllowsTenancyWrites({ scopes: [scope], projectPermissions: null }),
        true,
        scope,
      );
  });

  it('refuses a key whose scopes do not cover workspaces.manage', () => {
    assert.equal(
      narrowingAllowsTenancyWrites({
        scopes: ['workspaces.create', 'projects.*'],
        projectPermissions: null,
      }),
      false,
    );
  });

  it('refuses any grant limited to project permissions, even one with broad scopes', () => {
    assert.equal(narrowingAllowsTenancyWrites({ scopes: null, projectPermissions: {} }), false);
    assert.equal(
      narrowingAllowsTenancyWrites({ scopes: ['*'], projectPermissions: { p1: ['*'] } }),
      false,
    );
  });
});

describe('grantProjectPermissions', () => {
  const held = { p1: MEMBER, p2: ['projects.read'] };

  it('carries everything held when the grant is not narrowed', () => {
    const out = grantProjectPermissions(null, held);
    assert.deepEqual(out, held);
    assert.notEqual(out, held);
  });

  it('intersects each listed project with what is held there, sorted', () => {
    assert.deepEqual(
      grantProjectPermissions(
        [
          { projectId: 'p1', permissions: ['projects.read', 'items.*', 'projects.delete'] },
          { projectId: 'p2', permissions: ['*'] },
        ],
        held,
      ),
      {
        p1: ['items.delete', 'items.read', 'items.write', 'projects.read'],
        p2: ['projects.read'],
      },
    );
  });

  it('leaves out projects where nothing is kept and projects no longer held', () => {
    assert.deepEqual(
      grantProjectPermissions(
        [
          { projectId: 'p2', permissions: ['items.write'] },
          { projectId: 'gone', permissions: ['*'] },
        ],
        held,
      ),
      {},
    );
  });

  it('leaves out held projects the grant does not list', () => {
    assert.deepEqual(
      Object.keys(grantProjectPermissions([{ projectId: 'p2', permissions: ['*'] }], held)),
      ['p2'],
    );
  });
});
