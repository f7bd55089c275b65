import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { OAuthClient } from '#src/provider/entities/oauth-client.entity.js';
import { User } from '#src/users/user.entity.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const API = '/api/v1';

/** The client registry: validation (400 naming the field, nothing written), permissions, audit, secrets. */
describe('OAuth clients API', () => {
  let t: TestApp;
  let origin: string;
  let admin: MadeUser;
  let member: MadeUser;

  before(async () => {
    ({ t, origin } = await createListeningTestApp());
    admin = await makeUser(t, { role: 'admin' });
    member = await makeUser(t);
  });
  after(async () => t.close());

  const valid = {
    name: 'App',
    redirectUris: ['https://app.example/cb'],
    grantTypes: ['authorization_code'],
    tokenEndpointAuthMethod: 'client_secret_basic',
  };

  async function countClients(): Promise<number> {
    return t.db.getRepository(OAuthClient).count();
  }

  it('refuses invalid registrations with 400 naming the field, writing nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, name: undefined }, 'name'],
      [{ ...valid, tokenEndpointAuthMethod: 'client_secret_jwt' }, 'tokenEndpointAuthMethod'],
      [{ ...valid, grantTypes: ['implicit'] }, 'grantTypes'],
      [{ ...valid, grantTypes: [] }, 'grantTypes'],
      [{ ...valid, redirectUris: ['http://app.example/cb'] }, 'redirectUris'],
      [{ ...valid, redirectUris: ['https://app.example/cb#frag'] }, 'redirectUris'],
      [{ ...valid, redirectUris: ['not a url'] }, 'redirectUris'],
      [{ ...valid, redirectUris: [] }, 'redirectUris'],
      [{ ...valid, allowedOrigins: ['https://app.example/path'] }, 'allowedOrigins'],
      [
        { name: 'Job', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'none' },
        'grantTypes',
      ],
      [{ ...valid, tokenEndpointAuthMethod: 'private_key_jwt' }, 'jwks'],
      [{ ...valid, scopes: ['email'] }, 'scopes'],
      [{ ...valid, unknownField: 1 }, 'unknownField'],
    ];
    const before = await countClients();
    const usersBefore = await t.db.getRepository(User).count();
    for (const [body, field] of cases) {
      const res = await t.http.post(`${API}/clients`).set(admin.auth).send(body);
      assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      const fields = (res.body as { errors?: { field: string }[] }).errors?.map((e) => e.field);
      assert.ok(fields?.includes(field), `${field} named in ${JSON.stringify(res.body)}`);
    }
    assert.equal(await countClients(), before);
    assert.equal(await t.db.getRepository(User).count(), usersBefore);
  });

  it('accepts loopback http redirect URIs (RFC 8252) and public clients without a secret', async () => {
    const res = await t.http
      .post(`${API}/clients`)
      .set(admin.auth)
      .send({
        name: 'CLI',
        redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback'],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'none',
        scopes: ['openid', 'offline_access'],
      });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.clientSecret, undefined);
    assert.equal(res.body.serviceUserId, null);
    const row = await t.db
      .getRepository(OAuthClient)
      .createQueryBuilder('c')
      .addSelect('c.secretHash')
      .where('c.clientId = :id', { id: res.body.clientId as string })
      .getOneOrFail();
    assert.equal(row.secretHash, null);
    assert.deepEqual(row.redirectUris, ['http://127.0.0.1/callback', 'http://[::1]/callback']);
  });

  it('needs clients.manage to write and clients.read to read; admins have both', async () => {
    const denied = await t.http.post(`${API}/clients`).set(member.auth).send(valid);
    assert.equal(denied.status, 403);
    assert.match(denied.body.detail as string, /clients\.manage/);
    assert.equal((await t.http.get(`${API}/clients`).set(member.auth)).status, 403);
    const anonymous = await t.http.get(`${API}/clients`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="gatehouse"');

    const perms = await t.http.get(`${API}/permissions`).set(admin.auth);
    assert.equal(perms.status, 200);
    const names = JSON.stringify(perms.body);
    assert.ok(names.includes('clients.manage') && names.includes('clients.read'));

    const created = await t.http.post(`${API}/clients`).set(admin.auth).send(valid);
    assert.equal(created.status, 201);
    const list = await t.http.get(`${API}/clients`).set(admin.auth);
    assert.equal(list.status, 200);
    const ids = (list.body.items as { clientId: string }[]).map((c) => c.clientId);
    assert.ok(ids.includes(created.body.clientId as string));
    const listed = JSON.stringify(list.body);
    assert.ok(!listed.includes('ghcs_') && !listed.includes('secretHash'), 'no secret in listings');
    assert.ok(!listed.includes(created.body.clientSecret as string));
  });

  it('changes, rotates the secret (shown once, the old one stops) and audits each step', async () => {
    const created = await t.http
      .post(`${API}/clients`)
      .set(admin.auth)
      .send({
        name: 'Worker',
        grantTypes: ['client_credentials'],
        tokenEndpointAuthMethod: 'client_secret_post',
      });
    assert.equal(created.status, 201);
    const { clientId, clientSecret } = created.body as { clientId: string; clientSecret: string };
    const token = (secret: string) =>
      fetch(`${origin}${API}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: secret,
        }),
      });
    assert.equal((await token(clientSecret)).status, 200);

    const patched = await t.http
      .patch(`${API}/clients/${clientId}`)
      .set(admin.auth)
      .send({ name: 'Worker 2', allowedOrigins: ['https://app.example'] });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'Worker 2');
    const badPatch = await t.http
      .patch(`${API}/clients/${clientId}`)
      .set(admin.auth)
      .send({ redirectUris: ['http://evil.example/cb'] });
    assert.equal(badPatch.status, 400);
    assert.equal(
      (await t.db.getRepository(OAuthClient).findOneByOrFail({ clientId })).name,
      'Worker 2',
    );

    const rotated = await t.http.post(`${API}/clients/${clientId}/secret`).set(admin.auth);
    assert.equal(rotated.status, 200);
    const next = rotated.body.clientSecret as string;
    assert.ok(next.startsWith('ghcs_') && next !== clientSecret);
    const old = await token(clientSecret);
    assert.equal(old.status, 401);
    assert.equal(((await old.json()) as { error: string }).error, 'invalid_client');
    assert.equal((await token(next)).status, 200);
    const got = await t.http.get(`${API}/clients/${clientId}`).set(admin.auth);
    assert.equal(got.status, 200);
    assert.equal(got.body.clientSecret, undefined);

    const actions = (
      await t.db.getRepository(AuditEntry).find({ where: { targetId: clientId } })
    ).map((a) => a.action);
    assert.ok(actions.includes('client.create'));
    assert.ok(actions.includes('client.update'));
    assert.ok(actions.includes('client.secret_rotate'));
    assert.ok(actions.includes('user.create'), 'the service account is created and audited');
    const dump = JSON.stringify(await t.db.getRepository(AuditEntry).find());
    assert.ok(!dump.includes(next) && !dump.includes(clientSecret), 'no secret in the audit log');
  });

  it('answers 404 for an unknown client and 400 for a malformed id', async () => {
    const missing = await t.http
      .get(`${API}/clients/01a2356f-0e5b-72da-a151-6b03f14adb81`)
      .set(admin.auth);
    assert.equal(missing.status, 404);
    const malformed = await t.http.get(`${API}/clients/${'x'.repeat(40)}`).set(admin.auth);
    assert.equal(malformed.status, 400);
  });
});
