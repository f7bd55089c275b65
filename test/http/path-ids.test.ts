import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { createProject, createWorkspace } from '../factories/workspaces.js';

describe('path ids', () => {
  let t: TestApp;
  let admin: MadeUser;
  let projectId: string;
  let domain: string;
  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin' });
    domain = (await createWorkspace(t, admin.auth)).domain;
    projectId = (await createProject(t, admin.auth, domain)).id;
  });
  after(async () => t.close());

  const cases: [string, string, string][] = [
    ['get', '/api/v1/users/not-a-uuid', 'id'],
    ['delete', '/api/v1/users/1', 'id'],
    ['get', '/api/v1/users/x/log', 'id'],
    ['get', '/api/v1/users/me/sessions/abc', 'sid'],
    ['delete', '/api/v1/users/me/api-keys/abc', 'keyId'],
    ['delete', '/api/v1/users/me/grants/abc', 'gid'],
    ['get', '/api/v1/projects/abc', 'id'],
  ];
  for (const [method, path, field] of cases) {
    it(`answers ${method.toUpperCase()} ${path} with a 400 naming ${field}`, async () => {
      const res = await t.http[method as 'get' | 'delete'](path).set(admin.auth);
      assertProblem(res, 400, field, /must be a UUID/);
    });
  }

  // Group ids may be chosen by their creator (1 to 64 of A-Z a-z 0-9 . _ -): `abc` is one.
  it('answers a malformed group id with a 400 naming id, a well-formed unknown one with 404', async () => {
    assertProblem(await t.http.get('/api/v1/groups/a%20b').set(admin.auth), 400, 'id', /group id/);
    assertProblem(await t.http.get('/api/v1/groups/abc').set(admin.auth), 404);
  });

  it('names the member id (a user or group id) of a project route after its project passed the guard', async () => {
    const res = await t.http
      .patch(`/api/v1/projects/${projectId}/members/no%20pe`)
      .set(admin.auth)
      .send({ role: 'reader' });
    assertProblem(res, 400, 'memberId', /must be a group id/);
    const unknown = await t.http
      .patch(`/api/v1/projects/${projectId}/members/nope`)
      .set(admin.auth)
      .send({ role: 'reader' });
    assertProblem(unknown, 404);
  });

  it('names the user id of a workspace member route', async () => {
    const res = await t.http
      .put(`/api/v1/workspaces/${domain}/users/nope`)
      .set(admin.auth)
      .send({ role: 'reader' });
    assertProblem(res, 400, 'userId', /must be a UUID/);
  });

  it('still reads `me` as the caller on /users routes', async () => {
    const me = await t.http.get('/api/v1/users/me').set(admin.auth);
    assert.equal(me.status, 200);
    assert.equal(me.body.id, admin.user.id);
    const sessions = await t.http.get('/api/v1/users/me/sessions').set(admin.auth);
    assert.equal(sessions.status, 200);
    assert.ok(Array.isArray(sessions.body.items));
  });

  it('answers a well-formed unknown id with 404', async () => {
    const res = await t.http
      .get('/api/v1/users/0190a5b4-7c3e-7d2a-9f10-0123456789ab')
      .set(admin.auth);
    assertProblem(res, 404);
  });

  it('does not let a malformed id through when the caller is signed out (401 first)', async () => {
    const res = await t.http.get('/api/v1/users/not-a-uuid');
    assertProblem(res, 401);
  });
});
