import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppException } from '#src/common/errors/app.exception.js';
import { problemFromAppException } from '#src/common/errors/problem.filter.js';
import { assertHoldsAll, can } from '#src/kernel/anti-escalation.js';
import type { Principal } from '#src/kernel/principal.js';

function principal(permissions: string[]): Principal {
  return {
    userId: 'u1',
    email: 'u1@example.test',
    role: 'user',
    roles: [],
    permissions,
    credential: { kind: 'session', id: 's1', via: 'header' },
    scopes: null,
    projectPermissions: null,
  };
}

function caught(fn: () => void): AppException {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppException, `expected an AppException, got ${String(err)}`);
    return err;
  }
  assert.fail('expected it to throw');
}

describe('assertHoldsAll', () => {
  it('passes when every permission is held, directly or by a wildcard', () => {
    assert.doesNotThrow(() =>
      assertHoldsAll(principal(['users.*', 'roles.manage']), ['users.read', 'roles.manage'], 'x'),
    );
    assert.doesNotThrow(() => assertHoldsAll(principal(['*']), ['*', 'audit.read'], 'x'));
    assert.doesNotThrow(() => assertHoldsAll(principal([]), [], 'x'));
  });

  it('throws a 403 naming each missing permission once, sorted', () => {
    const err = caught(() =>
      assertHoldsAll(
        principal(['users.manage']),
        ['users.manage', 'roles.manage', '*', 'roles.manage'],
        'Creating this role',
      ),
    );
    assert.equal(err.code, 'forbidden');
    assert.equal(problemFromAppException(err).status, 403);
    assert.equal(
      err.detail,
      'Creating this role needs permissions you do not hold: *, roles.manage.',
    );
  });

  it('does not count a narrower permission as holding a wildcard', () => {
    const err = caught(() => assertHoldsAll(principal(['users.read']), ['users.*'], 'Granting'));
    assert.match(err.detail, /: users\.\*\.$/);
  });
});

describe('can', () => {
  it('answers from the principal permissions', () => {
    assert.equal(can(principal(['users.*']), 'users.manage'), true);
    assert.equal(can(principal(['users.read']), 'users.manage'), false);
  });
});
