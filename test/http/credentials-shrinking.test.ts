import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { Grant } from '#src/credentials/entities/grant.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeApiKey, makeGrant, refresh } from '../factories/credentials.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { setWorkspaceRole } from '../factories/workspaces.js';

/**
 * Keys and grants never carry more than their owner holds now: with the real project permission
 * model, removing the owner's project role takes the permission from the key on its next request,
 * from the access token minted next, and (inside Gatehouse) from access tokens already minted.
 */
describe('credentials shrink with their owner', () => {
  let t: TestApp;
  let lead: MadeUser;
  let dev: MadeUser;
  let projectId: string;

  before(async () => {
    t = await createTestApp();
    lead = await makeUser(t);
    dev = await makeUser(t);
    const ws = await t.http
      .post('/api/v1/workspaces')
      .set(lead.auth)
      .send({ title: 'Shrink Test' });
    assert.equal(ws.status, 201, JSON.stringify(ws.body));
    const domain = ws.body.domain as string;
    // In the workspace (the fixture completes the consent a workspace admin's add asks for).
    await setWorkspaceRole(t, lead.auth, domain, dev.user.id, 'user');
    const project = await t.http
      .post('/api/v1/projects')
      .set(lead.auth)
      .send({ name: 'P', workspace: domain });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    projectId = project.body.id;
    const member = await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(lead.auth)
      .send({ role: 'member', userId: dev.user.id });
    assert.equal(member.status, 201, JSON.stringify(member.body));
  });
  after(async () => t.close());

  it('refuses a grant carrying project permissions its owner lacks (422)', async () => {
    const res = await t.http
      .post('/api/v1/users/me/grants')
      .set(dev.auth)
      .send({
        type: 'service',
        projectPermissions: [{ projectId, permissions: ['items.write', 'projects.delete'] }],
      });
    assert.equal(res.status, 422);
    assert.match(res.body.detail, /projects\.delete/);
    assert.equal(await t.db.getRepository(Grant).countBy({ userId: dev.user.id }), 0);
  });

  it('narrows a key by scopes within projects too', async () => {
    const itemsOnly = await makeApiKey(t, dev, { scopes: ['items.read'] });
    const withRead = await makeApiKey(t, dev, { scopes: ['projects.read'] });
    assert.equal(
      (await t.http.get(`/api/v1/projects/${projectId}`).set(withRead.auth)).status,
      200,
    );
    assert.equal(
      (await t.http.get(`/api/v1/projects/${projectId}`).set(itemsOnly.auth)).status,
      404,
    );
  });

  it("loses the project on the key, the next access token and the current one when the owner's role goes", async () => {
    const key = await makeApiKey(t, dev);
    const g = await makeGrant(t, dev, {
      type: 'service',
      projectPermissions: [{ projectId, permissions: ['projects.read', 'items.write'] }],
    });
    const before = await refresh(t, g.refreshToken);
    assert.equal(before.status, 200);
    assert.deepEqual(decodeJwt(before.body.access_token)['projects'], {
      [projectId]: ['items.write', 'projects.read'],
    });
    const oldToken = { Authorization: `Bearer ${before.body.access_token}` };
    assert.equal((await t.http.get(`/api/v1/projects/${projectId}`).set(key.auth)).status, 200);
    assert.equal((await t.http.get(`/api/v1/projects/${projectId}`).set(oldToken)).status, 200);

    await t.http
      .delete(`/api/v1/projects/${projectId}/members/${dev.user.id}`)
      .set(lead.auth)
      .expect(204);

    assert.equal((await t.http.get(`/api/v1/projects/${projectId}`).set(key.auth)).status, 404);
    assert.equal((await t.http.get(`/api/v1/projects/${projectId}`).set(oldToken)).status, 404);
    const afterwards = await refresh(t, before.body.refresh_token);
    assert.equal(afterwards.status, 200);
    assert.deepEqual(decodeJwt(afterwards.body.access_token)['projects'], {});
    // The grant itself is unchanged: given the role back, the permission returns.
    await t.http
      .post(`/api/v1/projects/${projectId}/members`)
      .set(lead.auth)
      .send({ role: 'reader', userId: dev.user.id })
      .expect(201);
    const again = await refresh(t, afterwards.body.refresh_token);
    assert.deepEqual(decodeJwt(again.body.access_token)['projects'], {
      [projectId]: ['projects.read'],
    });
  });
});
