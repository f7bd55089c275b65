import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { userWithPasswordHash } from '../factories/auth.js';
import { linkIdentity } from '../factories/identities.js';
import { giveRole, makeRole } from '../factories/roles.js';
import { makeUser, PASSWORD, type MadeUser } from '../factories/users.js';

const API = '/api/v1';
const PROVIDERS = JSON.stringify([
  {
    id: 'corp',
    name: 'Corp IdP',
    issuer: 'https://idp.corp.example',
    clientId: 'gh',
    clientSecret: 'client-secret-x',
  },
]);

interface Impersonated {
  token: string;
  expiresAt: string;
  user: { id: string; email: string };
  impersonatedBy: { id: string; email: string };
  reason: string;
}

describe('impersonation', () => {
  let t: TestApp;
  let admin: MadeUser;

  before(async () => {
    t = await createTestApp({ OIDC_PROVIDERS: PROVIDERS });
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  async function impersonate(caller: MadeUser, userId: string, body: object) {
    return t.http.post(`${API}/users/${userId}/impersonate`).set(caller.auth).send(body);
  }
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const auditFor = (targetId: string, action: string) =>
    t.db.getRepository(AuditEntry).findBy({ targetId, action });

  it('starts a short session as the user, carrying the impersonator and the reason', async () => {
    const user = await makeUser(t);
    const before = Date.now();
    const res = await impersonate(admin, user.user.id, { reason: 'support ticket 42' });
    assert.equal(res.status, 201, res.text);
    const body = res.body as Impersonated;
    assert.match(body.token, /^gths_/);
    assert.equal(body.user.id, user.user.id);
    assert.deepEqual(body.impersonatedBy, { id: admin.user.id, email: admin.email });
    assert.equal(body.reason, 'support ticket 42');
    const expires = Date.parse(body.expiresAt);
    assert.ok(expires > before + 14 * 60_000 && expires <= Date.now() + 15 * 60_000);

    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: user.user.id, impersonatorId: admin.user.id });
    assert.equal(session.impersonationReason, 'support ticket 42');
    assert.equal(session.method, 'impersonation');
    assert.equal(session.expiresAt.toISOString(), body.expiresAt);

    const who = await t.http.get(`${API}/auth/whoami`).set(bearer(body.token));
    assert.equal(who.status, 200);
    assert.equal(who.body.id, user.user.id);
    assert.deepEqual(who.body.impersonatedBy, { id: admin.user.id, email: admin.email });
    assert.equal(who.body.reason, 'support ticket 42');
    const own = await t.http.get(`${API}/auth/whoami`).set(user.auth);
    assert.equal(own.body.impersonatedBy, undefined, 'ordinary sessions carry no impersonation');

    // The user sees it in their sessions.
    const list = await t.http.get(`${API}/users/${user.user.id}/sessions`).set(user.auth);
    assert.equal(list.status, 200);
    const listed = (
      list.body as { items: { id: string; impersonatedBy?: unknown; reason?: string }[] }
    ).items.find((s) => s.id === session.id);
    assert.deepEqual(listed?.impersonatedBy, { id: admin.user.id, email: admin.email });
    assert.equal(listed?.reason, 'support ticket 42');

    const [audit] = await auditFor(user.user.id, 'user.impersonate');
    assert.equal(audit?.actorId, admin.user.id);
    assert.match(audit?.changes ?? '', /support ticket 42/);
  });

  it('records the impersonator and reason on every audit entry made with the session', async () => {
    const user = await makeUser(t);
    const { token } = (await impersonate(admin, user.user.id, { reason: 'fix profile' }))
      .body as Impersonated;
    const res = await t.http
      .patch(`${API}/users/me`)
      .set(bearer(token))
      .send({ fullName: 'Changed While Impersonated' });
    assert.equal(res.status, 200, res.text);
    const entries = await auditFor(user.user.id, 'user.update');
    assert.equal(entries.length, 1);
    const changes = JSON.parse(entries[0]!.changes) as Record<string, unknown>;
    assert.equal(entries[0]!.actorId, user.user.id, 'the actor stays the impersonated user');
    assert.deepEqual(changes['impersonatedBy'], { id: admin.user.id, email: admin.email });
    assert.equal(changes['impersonationReason'], 'fix profile');

    // The user's own change carries none.
    await t.http.patch(`${API}/users/me`).set(user.auth).send({ fullName: 'Own' }).expect(200);
    const after = await auditFor(user.user.id, 'user.update');
    const own = after.find((e) => e.seq !== entries[0]!.seq);
    assert.ok(own && !own.changes.includes('impersonatedBy'));
  });

  it('cannot change passwords or credentials (403), and changes nothing', async () => {
    const user = await makeUser(t);
    const otherAdmin = await makeUser(t, { role: 'admin' });
    const hash = (await userWithPasswordHash(t, user.user.id)).passwordHash;
    const asUser = bearer(
      ((await impersonate(admin, user.user.id, { reason: 'look around' })).body as Impersonated)
        .token,
    );
    assertProblem(
      await t.http.post(`${API}/users/me/password`).set(asUser).send({
        currentPassword: PASSWORD,
        newPassword: 'a brand new password 1',
        newPasswordConfirm: 'a brand new password 1',
      }),
      403,
    );
    assertProblem(
      await t.http.post(`${API}/users/${user.user.id}/api-keys`).set(asUser).send({ name: 'k' }),
      403,
    );
    assertProblem(
      await t.http.post(`${API}/users/${user.user.id}/grants`).set(asUser).send({ type: 'user' }),
      403,
    );
    const sessions = await t.db.getRepository(Session).findBy({ userId: user.user.id });
    const own = sessions.find((s) => s.impersonatorId === null);
    assertProblem(
      await t.http.delete(`${API}/users/${user.user.id}/sessions/${own!.id}`).set(asUser),
      403,
    );
    assert.equal((await userWithPasswordHash(t, user.user.id)).passwordHash, hash);
    assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: user.user.id }), 0);
    assert.equal((await t.http.get(`${API}/auth/whoami`).set(user.auth)).status, 200);

    // An admin impersonated by an admin cannot set someone's password, nor impersonate further.
    const asAdmin = bearer(
      ((await impersonate(admin, otherAdmin.user.id, { reason: 'audit' })).body as Impersonated)
        .token,
    );
    assertProblem(
      await t.http
        .patch(`${API}/users/${user.user.id}`)
        .set(asAdmin)
        .send({ password: 'another new password 2' }),
      403,
    );
    assert.equal((await userWithPasswordHash(t, user.user.id)).passwordHash, hash);
    assertProblem(
      await t.http
        .post(`${API}/users/${user.user.id}/impersonate`)
        .set(asAdmin)
        .send({ reason: 'chain' }),
      403,
    );
    // Reading still works.
    assert.equal((await t.http.get(`${API}/users/${user.user.id}`).set(asAdmin)).status, 200);
  });

  it('needs users.impersonate, never reaches an admin from a non-admin, and validates input', async () => {
    const user = await makeUser(t);
    const plain = await makeUser(t);
    assertProblem(await impersonate(plain, user.user.id, { reason: 'x' }), 403);
    const support = await makeUser(t);
    await giveRole(t, support.user.id, await makeRole(t, { permissions: ['users.impersonate'] }));
    const ok = await impersonate(support, user.user.id, { reason: 'helpdesk', minutes: 5 });
    assert.equal(ok.status, 201, ok.text);
    const expires = Date.parse((ok.body as Impersonated).expiresAt);
    assert.ok(expires <= Date.now() + 5 * 60_000 && expires > Date.now() + 4 * 60_000);
    const before = await t.db.getRepository(Session).countBy({ userId: admin.user.id });
    assertProblem(await impersonate(support, admin.user.id, { reason: 'escalate' }), 403);
    assert.equal(await t.db.getRepository(Session).countBy({ userId: admin.user.id }), before);

    assertProblem(await impersonate(admin, user.user.id, {}), 400, 'reason');
    assertProblem(await impersonate(admin, user.user.id, { reason: '   ' }), 400, 'reason');
    assertProblem(
      await impersonate(admin, user.user.id, { reason: 'r', minutes: 61 }),
      400,
      'minutes',
    );
    assertProblem(
      await impersonate(admin, user.user.id, { reason: 'r', minutes: 0 }),
      400,
      'minutes',
    );
    assertProblem(await impersonate(admin, admin.user.id, { reason: 'me' }), 422);
    assertProblem(
      await impersonate(admin, '01890000-0000-7000-8000-000000000000', { reason: 'r' }),
      404,
    );
  });

  it('impersonates the user linked to an external identity (the seeds’ external-id token)', async () => {
    const user = await makeUser(t);
    await linkIdentity(t, user.user.id, 'corp', 'https://idp.corp.example', 'exch-uid-77');
    const res = await t.http
      .post(`${API}/users/impersonate`)
      .set(admin.auth)
      .send({ provider: 'corp', subject: 'exch-uid-77', reason: 'mail sync', minutes: 10 });
    assert.equal(res.status, 201, res.text);
    const body = res.body as Impersonated;
    assert.equal(body.user.id, user.user.id);
    const who = await t.http.get(`${API}/auth/whoami`).set(bearer(body.token));
    assert.equal(who.body.id, user.user.id);
    assert.equal(who.body.reason, 'mail sync');
    const [audit] = await auditFor(user.user.id, 'user.impersonate');
    assert.match(audit?.changes ?? '', /external:corp/);

    assertProblem(
      await t.http
        .post(`${API}/users/impersonate`)
        .set(admin.auth)
        .send({ provider: 'corp', subject: 'nobody', reason: 'r' }),
      404,
    );
    assertProblem(
      await t.http
        .post(`${API}/users/impersonate`)
        .set(admin.auth)
        .send({ provider: 'elsewhere', subject: 'exch-uid-77', reason: 'r' }),
      400,
      'provider',
    );
    const plain = await makeUser(t);
    assertProblem(
      await t.http
        .post(`${API}/users/impersonate`)
        .set(plain.auth)
        .send({ provider: 'corp', subject: 'exch-uid-77', reason: 'r' }),
      403,
    );
  });
});
