import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Invitation } from '#src/tenancy/entities/invitation.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { linkParam, SmtpCapture } from '../support/smtp.js';
import { login, userWithPasswordHash } from '../factories/auth.js';
import { makeUser, PASSWORD, uniqueEmail, type MadeUser } from '../factories/users.js';
import { createWorkspace, setWorkspaceRole } from '../factories/workspaces.js';

const API = '/api/v1';

describe('workspace invitations', () => {
  const smtp = new SmtpCapture();
  let t: TestApp;
  let owner: MadeUser;
  let ws: { id: string; domain: string; title: string };

  before(async () => {
    t = await createTestApp({ SMTP_URL: await smtp.start(), INVITATION_DAYS: '7' });
    owner = await makeUser(t);
    ws = await createWorkspace(t, owner.auth);
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  async function invite(emails: string[], role = 'user', auth = owner.auth) {
    return t.http
      .post(`${API}/workspaces/${ws.domain}/invitations`)
      .set(auth)
      .send({ emails, role });
  }
  const member = (userId: string) =>
    t.db.getRepository(WorkspaceMember).findOneBy({ workspaceId: ws.id, userId });
  const invitation = (id: string) => t.db.getRepository(Invitation).findOneByOrFail({ id });

  /** Invites one email and returns the invitation id and the token from the real mail. */
  async function invited(email: string, role = 'user') {
    const res = await invite([email], role);
    assert.equal(res.status, 201, res.text);
    const item = (res.body as { items: { email: string; status: number; id: string }[] }).items[0];
    assert.equal(item?.status, 201);
    const mail = await smtp.waitFor(email, /Invitation to the Gatehouse workspace/);
    assert.match(mail.text, new RegExp(`invited you to the workspace "${ws.title}"`));
    assert.match(mail.text, /expires in 7 days/);
    const token = linkParam(mail, '/invite', 'token');
    return { id: item.id, token };
  }

  it('invites known and unknown people, answers 409 per existing member, stores only a hash', async () => {
    const known = await makeUser(t);
    const fresh = uniqueEmail('new');
    const res = await invite([known.email, fresh, owner.email], 'reader');
    assert.equal(res.status, 201, res.text);
    const items = (res.body as { items: { email: string; status: number; id?: string }[] }).items;
    assert.deepEqual(
      items.map((i) => [i.email, i.status, typeof i.id]),
      [
        [known.email, 201, 'string'],
        [fresh, 201, 'string'],
        [owner.email, 409, 'undefined'],
      ],
    );
    const mail = await smtp.waitFor(fresh, /Invitation to the Gatehouse workspace/);
    const token = linkParam(mail, '/invite', 'token');
    assert.match(token, /^gthi_/);
    const row = await invitation(items[1]!.id!);
    assert.equal(row.status, 'pending');
    assert.equal(row.role, 'reader');
    assert.notEqual(row.tokenHash, token);
    assert.ok(
      !JSON.stringify(await t.db.query('SELECT * FROM workspace_invitations')).includes(token),
    );
    const days = (row.expiresAt.getTime() - row.createdAt.getTime()) / 86_400_000;
    assert.equal(Math.round(days), 7);
    // Nobody became a member and no account was made by inviting.
    assert.equal(await member(known.user.id), null);
    assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: fresh }), 0);
    const audit = await t.db
      .getRepository(AuditEntry)
      .findBy({ action: 'invitation.create', targetId: ws.id });
    assert.ok(audit.some((a) => a.changes.includes(items[1]!.id!)));
    assert.ok(audit.every((a) => !a.changes.includes(token)));
  });

  it('lets only workspace admins invite, list and revoke', async () => {
    const plain = await makeUser(t);
    await setWorkspaceRole(t, owner.auth, ws.domain, plain.user.id, 'user');
    assertProblem(await invite([uniqueEmail()], 'user', plain.auth), 403);
    assertProblem(
      await t.http.get(`${API}/workspaces/${ws.domain}/invitations`).set(plain.auth),
      403,
    );
    const stranger = await makeUser(t);
    assertProblem(await invite([uniqueEmail()], 'user', stranger.auth), 404);
    assertProblem(await invite(['not-an-email'], 'user'), 400, 'emails');
    assertProblem(await invite([uniqueEmail()], 'owner'), 400, 'role');
  });

  it('creates a new account at acceptance with a password under the policy, email verified', async () => {
    const email = uniqueEmail('newcomer');
    const { id, token } = await invited(email, 'reader');
    assertProblem(
      await t.http.post(`${API}/invitations/accept`).send({ token }),
      400,
      'password',
      /required/,
    );
    const short = await t.http.post(`${API}/invitations/accept`).send({ token, password: 'short' });
    assert.ok([400, 422].includes(short.status), short.text);
    assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: email }), 0);
    assert.equal((await invitation(id)).status, 'pending', 'refusals spend nothing');

    const res = await t.http.post(`${API}/invitations/accept`).send({ token, password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.workspace, ws.domain);
    assert.equal(res.body.role, 'reader');
    assert.equal(res.body.user.email, email);
    assert.equal(res.body.user.status, 'active');
    assert.equal(res.body.user.emailVerified, true);
    const row = await userWithPasswordHash(t, res.body.user.id as string);
    assert.ok(row.passwordHash);
    assert.equal((await member(row.id))?.role, 'reader');
    const inv = await invitation(id);
    assert.equal(inv.status, 'accepted');
    assert.equal(inv.decidedBy, row.id);
    assert.equal((await login(t, email, PASSWORD)).status, 200, 'the new password signs in');
    // Single use.
    const again = await t.http
      .post(`${API}/invitations/accept`)
      .send({ token, password: PASSWORD });
    assertProblem(again, 400, 'token', /already accepted or declined/);
  });

  it('completes an invited pending account without a password; /auth/activate needs the password too', async () => {
    // The older route: an unknown email added as a pending user with no password.
    const email = uniqueEmail('pending');
    const added = await t.http
      .post(`${API}/workspaces/${ws.domain}/users`)
      .set(owner.auth)
      .send({ emails: [email], role: 'user' });
    assert.equal(added.status, 200, added.text);
    const activation = await smtp.waitFor(email, /invited/);
    const activationToken = linkParam(activation, '/activate', 'token');
    assertProblem(
      await t.http.post(`${API}/auth/activate`).send({ token: activationToken }),
      400,
      'password',
    );
    const pending = await t.db.getRepository(User).findOneByOrFail({ emailNormalized: email });
    assert.equal(pending.status, 'pending', 'never an active account nobody can sign in to');

    // An invitation to another workspace: the token and a password complete the account.
    const other = await createWorkspace(t, owner.auth);
    const res = await t.http
      .post(`${API}/workspaces/${other.domain}/invitations`)
      .set(owner.auth)
      .send({ emails: [email], role: 'admin' });
    assert.equal(res.status, 201, res.text);
    const mail = await smtp.waitFor(email, /Invitation to the Gatehouse workspace/);
    const token = linkParam(mail, '/invite', 'token');
    assertProblem(await t.http.post(`${API}/invitations/accept`).send({ token }), 400, 'password');
    const ok = await t.http.post(`${API}/invitations/accept`).send({ token, password: PASSWORD });
    assert.equal(ok.status, 200, ok.text);
    const row = await userWithPasswordHash(t, pending.id);
    assert.equal(row.status, 'active');
    assert.equal(row.emailVerified, true);
    assert.ok(row.passwordHash);
    const m = await t.db
      .getRepository(WorkspaceMember)
      .findOneBy({ workspaceId: other.id, userId: pending.id });
    assert.equal(m?.role, 'admin');
  });

  it('makes a known person accept while signed in as the invited email', async () => {
    const known = await makeUser(t);
    const someoneElse = await makeUser(t);
    const { id, token } = await invited(known.email);
    assertProblem(await t.http.post(`${API}/invitations/accept`).send({ token }), 401);
    assertProblem(
      await t.http
        .post(`${API}/invitations/accept`)
        .send({ token, password: 'a new password here' }),
      401,
    );
    assertProblem(
      await t.http.post(`${API}/invitations/accept`).set(someoneElse.auth).send({ token }),
      403,
    );
    assert.equal(await member(known.user.id), null);
    assert.equal(await member(someoneElse.user.id), null);
    const hashBefore = (await userWithPasswordHash(t, known.user.id)).passwordHash;
    const res = await t.http.post(`${API}/invitations/accept`).set(known.auth).send({ token });
    assert.equal(res.status, 200, res.text);
    assert.equal((await member(known.user.id))?.role, 'user');
    assert.equal((await invitation(id)).status, 'accepted');
    assert.equal((await userWithPasswordHash(t, known.user.id)).passwordHash, hashBefore);
    const audit = await t.db.getRepository(AuditEntry).findBy({
      action: 'workspace.member_add',
      targetId: ws.id,
      actorId: known.user.id,
    });
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.changes, /"via":"invitation"/);
  });

  it('declines with the token alone, changing nothing else', async () => {
    const known = await makeUser(t);
    const { id, token } = await invited(known.email);
    const res = await t.http.post(`${API}/invitations/decline`).send({ token });
    assert.equal(res.status, 204, res.text);
    const inv = await invitation(id);
    assert.equal(inv.status, 'declined');
    assert.equal(await member(known.user.id), null);
    assertProblem(
      await t.http.post(`${API}/invitations/accept`).set(known.auth).send({ token }),
      400,
      'token',
      /already accepted or declined/,
    );
    await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'invitation.decline', targetId: ws.id, actorId: known.user.id });
  });

  it('lists pending invitations and revokes one; a revoked or replaced link no longer works', async () => {
    const email = uniqueEmail('revoked');
    const first = await invited(email);
    const second = await invited(email); // replaces the first
    assert.equal((await invitation(first.id)).status, 'revoked');
    const list = await t.http.get(`${API}/workspaces/${ws.domain}/invitations`).set(owner.auth);
    assert.equal(list.status, 200);
    const ids = (list.body as { items: { id: string; email: string }[] }).items.map((i) => i.id);
    assert.ok(ids.includes(second.id));
    assert.ok(!ids.includes(first.id));
    assertProblem(
      await t.http
        .post(`${API}/invitations/accept`)
        .send({ token: first.token, password: PASSWORD }),
      400,
      'token',
      /revoked/,
    );
    const del = await t.http
      .delete(`${API}/workspaces/${ws.domain}/invitations/${second.id}`)
      .set(owner.auth);
    assert.equal(del.status, 204, del.text);
    assert.equal((await invitation(second.id)).status, 'revoked');
    assertProblem(
      await t.http
        .delete(`${API}/workspaces/${ws.domain}/invitations/${second.id}`)
        .set(owner.auth),
      404,
    );
    assertProblem(
      await t.http
        .post(`${API}/invitations/accept`)
        .send({ token: second.token, password: PASSWORD }),
      400,
      'token',
      /revoked/,
    );
    assert.equal(await t.db.getRepository(User).countBy({ emailNormalized: email }), 0);
    await t.db
      .getRepository(AuditEntry)
      .findOneByOrFail({ action: 'invitation.revoke', targetId: ws.id });
  });

  it('refuses an expired invitation', async () => {
    const email = uniqueEmail('expired');
    const { id, token } = await invited(email);
    await t.db.getRepository(Invitation).update({ id }, { expiresAt: new Date(Date.now() - 1000) });
    assertProblem(
      await t.http.post(`${API}/invitations/accept`).send({ token, password: PASSWORD }),
      400,
      'token',
      /expired/,
    );
    assertProblem(await t.http.post(`${API}/invitations/decline`).send({ token }), 400, 'token');
    assert.equal((await invitation(id)).status, 'pending');
    assertProblem(
      await t.http
        .post(`${API}/invitations/accept`)
        .send({ token: 'gthi_nonsense', password: PASSWORD }),
      400,
      'token',
      /not a valid invitation/,
    );
  });

  describe('the /invite page', () => {
    it('shows the invitation without spending it, with a new-password field for a new person', async () => {
      const email = uniqueEmail('page');
      const { id, token } = await invited(email);
      for (let i = 0; i < 2; i++) {
        const page = await t.http.get(`/invite?token=${encodeURIComponent(token)}`);
        assert.equal(page.status, 200);
        assert.match(page.headers['content-type'] ?? '', /text\/html/);
        assert.match(page.text, new RegExp(`Join ${ws.title}`));
        assert.match(page.text, /autocomplete="new-password"/);
        assert.match(page.text, /name="action" value="decline"/);
        assert.ok(page.text.includes(email));
      }
      assert.equal((await invitation(id)).status, 'pending', 'GET spends nothing');
    });

    it('answers bad, used, revoked and expired links with an HTML page saying which', async () => {
      const bad = await t.http.get('/invite?token=gthi_wrong');
      assert.equal(bad.status, 400);
      assert.match(bad.headers['content-type'] ?? '', /text\/html/);
      assert.match(bad.text, /Invitation link not valid/);
      assert.equal((await t.http.get('/invite')).status, 400);

      const used = await invited(uniqueEmail('used'));
      await t.http.post(`${API}/invitations/decline`).send({ token: used.token }).expect(204);
      const usedPage = await t.http.get(`/invite?token=${used.token}`);
      assert.equal(usedPage.status, 410);
      assert.match(usedPage.text, /Invitation already used/);

      const revoked = await invited(uniqueEmail('rev'));
      await t.http
        .delete(`${API}/workspaces/${ws.domain}/invitations/${revoked.id}`)
        .set(owner.auth)
        .expect(204);
      const revokedPage = await t.http.get(`/invite?token=${revoked.token}`);
      assert.equal(revokedPage.status, 410);
      assert.match(revokedPage.text, /Invitation revoked/);

      const expired = await invited(uniqueEmail('exp'));
      await t.db
        .getRepository(Invitation)
        .update({ id: expired.id }, { expiresAt: new Date(Date.now() - 1000) });
      const expiredPage = await t.http.get(`/invite?token=${expired.token}`);
      assert.equal(expiredPage.status, 410);
      assert.match(expiredPage.text, /Invitation expired/);
    });

    it('accepts from the form with a password (Origin checked), and declines from it', async () => {
      const email = uniqueEmail('form');
      const { id, token } = await invited(email);
      const crossSite = await t.http
        .post('/invite')
        .set('Origin', 'http://evil.example')
        .type('form')
        .send({ token, action: 'accept', password: PASSWORD });
      assert.equal(crossSite.status, 403);
      assert.match(crossSite.text, /another site/);
      const short = await t.http
        .post('/invite')
        .set('Origin', t.origin)
        .type('form')
        .send({ token, action: 'accept', password: 'short' });
      assert.ok([400, 422].includes(short.status), short.text);
      assert.match(short.text, /role="alert"/);
      assert.equal((await invitation(id)).status, 'pending');
      const ok = await t.http
        .post('/invite')
        .set('Origin', t.origin)
        .type('form')
        .send({ token, action: 'accept', password: PASSWORD });
      assert.equal(ok.status, 200, ok.text);
      assert.match(ok.text, new RegExp(`You joined ${ws.title}`));
      assert.equal((await invitation(id)).status, 'accepted');
      assert.equal((await login(t, email, PASSWORD)).status, 200);

      const other = await invited(uniqueEmail('form-decline'));
      const declined = await t.http
        .post('/invite')
        .set('Origin', t.origin)
        .type('form')
        .send({ token: other.token, action: 'decline' });
      assert.equal(declined.status, 200);
      assert.match(declined.text, /Invitation declined/);
      assert.equal((await invitation(other.id)).status, 'declined');
    });

    it('asks a known person to sign in, and accepts for them when signed in by cookie', async () => {
      const known = await makeUser(t);
      const { id, token } = await invited(known.email);
      const anonymous = await t.http.get(`/invite?token=${token}`);
      assert.equal(anonymous.status, 200);
      assert.match(anonymous.text, /Sign in as/);
      assert.ok(!anonymous.text.includes('new-password'));
      const tryAnon = await t.http
        .post('/invite')
        .set('Origin', t.origin)
        .type('form')
        .send({ token, action: 'accept' });
      assert.equal(tryAnon.status, 401);
      assert.equal(await member(known.user.id), null);

      const cookie = `gh_session=${known.token}`;
      const page = await t.http.get(`/invite?token=${token}`).set('Cookie', cookie);
      assert.match(page.text, /Accept and join/);
      const ok = await t.http
        .post('/invite')
        .set('Cookie', cookie)
        .set('Origin', t.origin)
        .type('form')
        .send({ token, action: 'accept' });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await invitation(id)).status, 'accepted');
      assert.equal((await member(known.user.id))?.role, 'user');
    });
  });
});
