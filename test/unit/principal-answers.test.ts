import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withCredential, type Principal, type PrincipalUser } from '#src/kernel/principal.js';
import { ownUserDetail, toUserDetail } from '#src/users/user.mapper.js';

const user: PrincipalUser = {
  id: 'u1',
  email: 'kim@example.com',
  username: 'kim',
  fullName: 'Kim',
  role: 'user',
  status: 'active',
  emailVerified: true,
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
  updatedAt: new Date('2026-02-03T04:05:06.000Z'),
  version: 3,
  data: { shoe: 42, nested: { a: 1 } },
};

const cached: Omit<Principal, 'credential'> = {
  userId: 'u1',
  email: 'kim@example.com',
  role: 'user',
  roles: ['auditor'],
  permissions: ['audit.read'],
  scopes: null,
  projectPermissions: null,
  user,
};

describe('withCredential', () => {
  it('gives each request its own principal with its credential, leaving the cached one alone', () => {
    const a = withCredential(cached, { kind: 'session', id: 's1', via: 'header' });
    const b = withCredential(cached, { kind: 'session', id: 's1', via: 'cookie' });
    assert.notEqual(a, b);
    assert.deepEqual(a, { ...cached, credential: { kind: 'session', id: 's1', via: 'header' } });
    assert.equal(b.credential.via, 'cookie');
    assert.equal('credential' in cached, false);
    a.mfaEnrolmentRequired = true;
    assert.equal(cached.mfaEnrolmentRequired, undefined);
    assert.equal(b.mfaEnrolmentRequired, undefined);
  });
});

describe('ownUserDetail', () => {
  it('is the mapper answer, made once per user row and role list', () => {
    const roles = ['auditor'];
    const d = ownUserDetail(user, roles);
    assert.deepEqual(d, toUserDetail(user, roles));
    assert.equal(d.createdAt, '2026-01-02T03:04:05.000Z');
    assert.equal(ownUserDetail(user, roles), d);
  });

  it('is made again for new role names or a new row (a change makes new principals)', () => {
    const roles = ['auditor'];
    const d = ownUserDetail(user, roles);
    const renamed = ownUserDetail(user, ['auditor', 'editor']);
    assert.notEqual(renamed, d);
    assert.deepEqual(renamed.roles, ['auditor', 'editor']);
    const newer = { ...user, fullName: 'Kim Lee', version: 4 };
    const fresh = ownUserDetail(newer, roles);
    assert.equal(fresh.fullName, 'Kim Lee');
    assert.equal(fresh.version, 4);
    assert.equal(ownUserDetail(user, roles).fullName, 'Kim');
  });

  it('cannot be changed by whoever receives it, nor changes with the caller’s arrays', () => {
    const roles = ['auditor'];
    const d = ownUserDetail(user, roles);
    assert.throws(() => {
      (d as { fullName: string | null }).fullName = 'Mallory';
    }, TypeError);
    assert.throws(() => d.roles.push('admin'), TypeError);
    assert.throws(() => {
      d.data['shoe'] = 1;
    }, TypeError);
    roles.push('admin');
    assert.deepEqual(d.roles, ['auditor']);
    assert.equal(d.fullName, 'Kim');
  });
});
