import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session } from '#src/auth/entities/session.entity.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { API, auditOf, login } from '../factories/auth.js';
import { makeUser } from '../factories/users.js';
import { createWorkspace } from '../factories/workspaces.js';
import { insertWorkspaceMember } from '../factories/rows.js';

const ENROLMENT = 'https://gatehouse.dev/problems/mfa-enrolment-required';

describe("a workspace's mfaRequired", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('is set by a workspace admin only, audited, and shown in GET responses', async () => {
    const admin = await makeUser(t);
    const ws = await createWorkspace(t, admin.auth);
    const shown = await t.http.get(`${API}/workspaces/${ws.domain}`).set(admin.auth);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.mfaRequired, false);

    const member = await makeUser(t);
    await insertWorkspaceMember(t.db, ws.id, member.user.id, 'user');
    const refused = await t.http
      .patch(`${API}/workspaces/${ws.domain}`)
      .set(member.auth)
      .send({ mfaRequired: true });
    assert.equal(refused.status, 403);
    assert.equal(
      (await t.db.getRepository(Workspace).findOneByOrFail({ id: ws.id })).mfaRequired,
      false,
    );

    const bad = await t.http
      .patch(`${API}/workspaces/${ws.domain}`)
      .set(admin.auth)
      .send({ mfaRequired: 'yes' });
    assert.equal(bad.status, 400);
    assert.ok(JSON.stringify(bad.body).includes('mfaRequired'));
    const empty = await t.http.patch(`${API}/workspaces/${ws.domain}`).set(admin.auth).send({});
    assert.equal(empty.status, 400);

    const ok = await t.http
      .patch(`${API}/workspaces/${ws.domain}`)
      .set(admin.auth)
      .send({ mfaRequired: true });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.mfaRequired, true);
    assert.equal(ok.body.title, ws.title, 'the title stays');
    const row = await t.db.getRepository(Workspace).findOneByOrFail({ id: ws.id });
    assert.equal(row.mfaRequired, true);
    assert.equal(row.title, ws.title);
    assert.equal(
      (await t.http.get(`${API}/workspaces/${ws.domain}`).set(admin.auth)).body.mfaRequired,
      true,
    );
    const listed = await t.http.get(`${API}/workspaces`).set(admin.auth);
    assert.equal(
      (listed.body.items as { id: string; mfaRequired: boolean }[]).find((w) => w.id === ws.id)
        ?.mfaRequired,
      true,
    );
    const entry = (await auditOf(t, ws.id, 'workspace.update')).at(-1);
    assert.ok(entry);
    assert.equal(entry.actorId, admin.user.id);
    assert.deepEqual(entry.parsed, { mfaRequired: { from: false, to: true } });
  });

  it('members without a factor get an enrolment-only session at their next sign-in; non-members do not', async () => {
    const admin = await makeUser(t);
    const ws = await createWorkspace(t, admin.auth);
    const member = await makeUser(t);
    const outsider = await makeUser(t);
    await insertWorkspaceMember(t.db, ws.id, member.user.id, 'reader');
    await t.http
      .patch(`${API}/workspaces/${ws.domain}`)
      .set(admin.auth)
      .send({ mfaRequired: true })
      .expect(200);

    const signedIn = await login(t, member.email, member.password);
    assert.equal(signedIn.status, 200);
    assert.ok(signedIn.body.token);
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: member.user.id, mfaEnrolment: true });
    assert.equal(session.amr, 'pwd');
    const auth = { Authorization: `Bearer ${signedIn.body.token}` };
    const blocked = await t.http.get(`${API}/workspaces/${ws.domain}`).set(auth);
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.type, ENROLMENT);
    const mine = await t.http.get(`${API}/users/me/mfa`).set(auth);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.required, true);
    // Enrolment is open to this session.
    assert.equal((await t.http.post(`${API}/users/me/mfa/totp`).set(auth).send({})).status, 201);

    // Someone outside the workspace signs in as before.
    const other = await login(t, outsider.email, outsider.password);
    assert.equal(other.status, 200);
    assert.equal(
      await t.db.getRepository(Session).countBy({ userId: outsider.user.id, mfaEnrolment: true }),
      0,
    );
    const free = { Authorization: `Bearer ${other.body.token}` };
    assert.equal((await t.http.get(`${API}/workspaces`).set(free)).status, 200);
    assert.equal((await t.http.get(`${API}/users/me/mfa`).set(free)).body.required, false);

    // Turned off again: the member's next sign-in is an ordinary session.
    await t.http
      .patch(`${API}/workspaces/${ws.domain}`)
      .set(admin.auth)
      .send({ mfaRequired: false })
      .expect(200);
    const later = await login(t, member.email, member.password);
    const laterAuth = { Authorization: `Bearer ${later.body.token}` };
    assert.equal((await t.http.get(`${API}/workspaces/${ws.domain}`).set(laterAuth)).status, 200);
  });
});
