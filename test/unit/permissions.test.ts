import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  intersectPermissions,
  isWritePermission,
  permissionMatches,
  permits,
} from '#src/kernel/permissions.js';

const sorted = (xs: string[]) => [...xs].sort();

describe('permissionMatches', () => {
  it('lets * grant every permission', () => {
    assert.equal(permissionMatches('*', 'users.manage'), true);
    assert.equal(permissionMatches('*', 'projects.read.secret'), true);
  });

  it('grants an exact permission and nothing next to it', () => {
    assert.equal(permissionMatches('users.read', 'users.read'), true);
    assert.equal(permissionMatches('users.read', 'users.manage'), false);
    assert.equal(permissionMatches('users.read', 'users'), false);
    assert.equal(permissionMatches('users.read', 'users.read.x'), false);
  });

  it('lets a.* grant everything below a., and a itself', () => {
    assert.equal(permissionMatches('items.*', 'items.read'), true);
    assert.equal(permissionMatches('items.*', 'items.write.deep'), true);
    assert.equal(permissionMatches('items.*', 'items'), true);
  });

  it('does not let a.* grant a permission that merely starts with the same letters', () => {
    assert.equal(permissionMatches('projects.read.*', 'projects.readx'), false);
    assert.equal(permissionMatches('items.*', 'itemsx.read'), false);
    assert.equal(permissionMatches('projects.read.*', 'projects.update'), false);
  });

  it('does not treat * inside a required permission as a wildcard', () => {
    assert.equal(permissionMatches('users.read', '*'), false);
    assert.equal(permissionMatches('users.read', 'users.*'), false);
  });

  it('lets a broader wildcard grant a narrower wildcard, not the other way round', () => {
    assert.equal(permissionMatches('projects.*', 'projects.read.*'), true);
    assert.equal(permissionMatches('projects.read.*', 'projects.*'), false);
  });
});

describe('permits', () => {
  it('is true when any granted permission matches', () => {
    assert.equal(permits(['users.read', 'items.*'], 'items.delete'), true);
  });

  it('is false for an empty grant and for grants that do not match', () => {
    assert.equal(permits([], 'users.read'), false);
    assert.equal(permits(['users.read', 'projects.read.*'], 'projects.readx'), false);
  });
});

describe('isWritePermission', () => {
  it('counts a permission without a read segment as a write', () => {
    assert.equal(isWritePermission('users.manage'), true);
    assert.equal(isWritePermission('items.write'), true);
    assert.equal(isWritePermission('items.*'), true);
  });

  it('counts * as a write', () => {
    assert.equal(isWritePermission('*'), true);
  });

  it('counts a permission with a read segment anywhere as a read', () => {
    assert.equal(isWritePermission('users.read'), false);
    assert.equal(isWritePermission('projects.members.read'), false);
    assert.equal(isWritePermission('projects.read.*'), false);
  });

  it('does not count a segment that only contains the word read', () => {
    assert.equal(isWritePermission('items.reader'), true);
    assert.equal(isWritePermission('threads.manage'), true);
  });
});

describe('intersectPermissions', () => {
  it('keeps only the limit when the holder holds everything', () => {
    assert.deepEqual(sorted(intersectPermissions(['*'], ['users.read', 'items.*'])), [
      'items.*',
      'users.read',
    ]);
  });

  it('keeps only what is held when the limit is everything', () => {
    assert.deepEqual(sorted(intersectPermissions(['users.read', 'items.*'], ['*'])), [
      'items.*',
      'users.read',
    ]);
  });

  it('narrows a held wildcard to the limit below it', () => {
    assert.deepEqual(intersectPermissions(['items.*'], ['items.read']), ['items.read']);
  });

  it('narrows a limit wildcard to the held permissions below it', () => {
    assert.deepEqual(intersectPermissions(['items.read', 'users.read'], ['items.*']), [
      'items.read',
    ]);
  });

  it('keeps the narrower of two nested wildcards', () => {
    assert.deepEqual(intersectPermissions(['projects.*'], ['projects.read.*']), [
      'projects.read.*',
    ]);
    assert.deepEqual(intersectPermissions(['projects.read.*'], ['projects.*']), [
      'projects.read.*',
    ]);
  });

  it('is empty when the sets do not overlap', () => {
    assert.deepEqual(intersectPermissions(['users.read'], ['items.read']), []);
    assert.deepEqual(intersectPermissions(['projects.read.*'], ['projects.readx']), []);
    assert.deepEqual(intersectPermissions([], ['*']), []);
    assert.deepEqual(intersectPermissions(['*'], []), []);
  });

  it('gives the same set whichever side is the holder', () => {
    const a = ['items.*', 'users.read', 'projects.read'];
    const b = ['items.write', 'users.*', 'audit.read'];
    assert.deepEqual(sorted(intersectPermissions(a, b)), sorted(intersectPermissions(b, a)));
    assert.deepEqual(sorted(intersectPermissions(a, b)), ['items.write', 'users.read']);
  });

  it('lists each permission once', () => {
    assert.deepEqual(intersectPermissions(['users.read', 'users.read'], ['users.read']), [
      'users.read',
    ]);
  });
});
