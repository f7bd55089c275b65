import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Invitation } from '#src/tenancy/entities/invitation.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { linkParam, SmtpCapture } from '../support/smtp.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { createWorkspace, setWorkspaceRole } from '../factories/workspaces.js';

const API = '/api/v1';

interface Item {
  userId: string;
  workspace: string;
  role: string;
  status: 'added' | 'invited' | 'member';
  invited: boolean;
  added: boolean;
  invitationId?: string;
}

describe('POST /workspaces/:domain/users: nobody joins without consenting, unless a server admin adds them', () => {
  const smtp = new SmtpCapture();
  let t: TestApp;
  let wsAdmin: MadeUser;
  let serverAdmin: MadeUser;
  let ws: { id: string; domain: string; title: string };

  before(async () => {
    t = await createTestApp({ SMTP_URL: await smtp.start() });
    wsAdmin = await makeUser(t);
    serverAdmin = await makeUser(t, { role: 'admin' });
    ws = await createWorkspace(t, wsAdmin.auth);
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const add = (emails: string[], role: string, auth = wsAdmin.auth) =>
    t.http.post(`${API}/workspaces/${ws.domain}/users`).set(auth).send({ emails, role });
  const member = (userId: string) =>
    t.db.getRepository(WorkspaceMember).findOneBy({ workspaceId: ws.id, userId });
  const invitationsTo = (email: string) =>
    t.db
      .getRepository(Invitation)
      .findBy({ workspaceId: ws.id, emailNormalized: email.toLowerCase() });
  const inviteToken = async (email: string) =>
    linkParam(
      await smtp.waitFor(email, /Invitation to the Gatehouse workspace/),
      '/invite',
      'token',
    );

  it('invites an existing person (no membership until they accept, then with the role) and still adds an unknown email as a pending user', async () => {
    const known = await makeUser(t);
    const fresh = uniqueEmail('fresh');
    const res = await add([known.email, fresh], 'reader');
    assert.equal(res.status, 200, res.text);
    const [k, f] = res.body as Item[];
    assert.equal(k?.userId, known.user.id);
    assert.equal(k.workspace, ws.domain);
    assert.equal(k.status, 'invited');
    assert.equal(k.added, false);
    assert.equal(k.invited, true);
    assert.equal(k.role, 'reader');
    assert.equal(typeof k.invitationId, 'string');
    assert.equal(f?.status, 'added');
    assert.equal(f.invited, true);
    assert.equal(f.added, true);

    // Nothing joined for the known person; an invitation waits, mailed with the /invite link.
    assert.equal(await member(known.user.id), null);
    const [inv] = await invitationsTo(known.email);
    assert.ok(inv);
    assert.equal(inv.id, k.invitationId);
    assert.equal(inv.status, 'pending');
    assert.equal(inv.role, 'reader');
    assert.equal(inv.invitedBy, wsAdmin.user.id);
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ action: 'invitation.create', targetId: ws.id });
    assert.ok(
      audit.some((a) => a.changes.includes(inv.id) && a.changes.includes('workspace.users')),
    );
    const token = await inviteToken(known.email);

    // The unknown email: a pending member at once, with the activation link (today's behaviour).
    const pending = await t.db.getRepository(User).findOneByOrFail({ emailNormalized: fresh });
    assert.equal(pending.status, 'pending');
    assert.equal((await member(pending.id))?.role, 'reader');
    assert.ok(linkParam(await smtp.waitFor(fresh, /invited/), '/activate', 'token'));

    // Accepting (signed in as the invited person) joins with the invited role.
    const accepted = await t.http.post(`${API}/invitations/accept`).set(known.auth).send({ token });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.body.role, 'reader');
    assert.equal((await member(known.user.id))?.role, 'reader');
    assert.equal((await invitationsTo(known.email))[0]?.status, 'accepted');
  });

  it('leaves nothing when the invited person declines', async () => {
    const known = await makeUser(t);
    const res = await add([known.email], 'admin');
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as Item[])[0]?.status, 'invited');
    const token = await inviteToken(known.email);
    const declined = await t.http.post(`${API}/invitations/decline`).send({ token });
    assert.equal(declined.status, 204, declined.text);
    assert.equal(await member(known.user.id), null);
    const [inv] = await invitationsTo(known.email);
    assert.equal(inv?.status, 'declined');
    // The token is spent.
    assertProblem(
      await t.http.post(`${API}/invitations/accept`).set(known.auth).send({ token }),
      400,
      'token',
    );
    assert.equal(await member(known.user.id), null);
  });

  it('lets a server admin add an existing person at once, closing their pending invitation', async () => {
    const known = await makeUser(t);
    assert.equal((await add([known.email], 'user')).status, 200);
    const token = await inviteToken(known.email);
    const res = await add([known.email], 'user', serverAdmin.auth);
    assert.equal(res.status, 200, res.text);
    const [item] = res.body as Item[];
    assert.equal(item?.status, 'added');
    assert.equal(item.added, true);
    assert.equal(item.invited, false);
    assert.equal(item.invitationId, undefined);
    assert.equal((await member(known.user.id))?.role, 'user');
    const invitations = await invitationsTo(known.email);
    assert.equal(invitations.length, 1, 'the server admin made no invitation');
    assert.equal(invitations[0]?.status, 'revoked');
    assertProblem(
      await t.http.post(`${API}/invitations/accept`).set(known.auth).send({ token }),
      400,
      'token',
      /revoked/,
    );
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ action: 'workspace.member_add', targetId: ws.id, actorId: serverAdmin.user.id });
    assert.ok(audit.some((a) => a.changes.includes(known.user.id)));
  });

  it('PUT by user id: a workspace admin only invites a person who is not a member; role changes of members stay direct', async () => {
    const known = await makeUser(t);
    const put = (role: string, auth = wsAdmin.auth) =>
      t.http.put(`${API}/workspaces/${ws.domain}/users/${known.user.id}`).set(auth).send({ role });
    const res = await put('user');
    assert.equal(res.status, 200, res.text);
    const item = res.body as Item;
    assert.equal(item.status, 'invited');
    assert.equal(item.added, false);
    assert.equal(item.invited, true);
    assert.equal(await member(known.user.id), null, 'nothing joined before consent');
    const [inv] = await invitationsTo(known.email);
    assert.equal(inv?.id, item.invitationId);
    assert.equal(inv?.status, 'pending');
    assert.equal(inv?.role, 'user');
    const token = await inviteToken(known.email);
    const accepted = await t.http.post(`${API}/invitations/accept`).set(known.auth).send({ token });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal((await member(known.user.id))?.role, 'user');

    // A member's role is the workspace admin's to change, at once and audited.
    const changed = await put('reader');
    assert.equal(changed.status, 200, changed.text);
    assert.equal((changed.body as Item).status, 'member');
    assert.equal((await member(known.user.id))?.role, 'reader');
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ action: 'workspace.member_role', targetId: ws.id, actorId: wsAdmin.user.id });
    assert.ok(audit.some((a) => a.changes.includes(known.user.id)));
  });

  it('PUT by user id: a server admin adds a person at once', async () => {
    const known = await makeUser(t);
    const res = await t.http
      .put(`${API}/workspaces/${ws.domain}/users/${known.user.id}`)
      .set(serverAdmin.auth)
      .send({ role: 'user' });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as Item).status, 'added');
    assert.equal((await member(known.user.id))?.role, 'user');
    assert.equal((await invitationsTo(known.email)).length, 0);
  });

  it('answers status member for someone already in the workspace and keeps their role', async () => {
    const known = await makeUser(t);
    await setWorkspaceRole(t, wsAdmin.auth, ws.domain, known.user.id, 'reader');
    const res = await add([known.email], 'admin');
    assert.equal(res.status, 200, res.text);
    const [item] = res.body as Item[];
    assert.equal(item?.status, 'member');
    assert.equal(item.role, 'reader');
    assert.equal(item.added, false);
    assert.equal((await member(known.user.id))?.role, 'reader');
    const pending = (await invitationsTo(known.email)).filter((i) => i.status === 'pending');
    assert.equal(pending.length, 0);
  });
});
