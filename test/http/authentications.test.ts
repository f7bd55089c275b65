import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { SecretBox } from '#src/crypto/secret-box.js';
import { ExternalCredential } from '#src/credentials/entities/external-credential.entity.js';
import { SigningKey } from '#src/credentials/entities/signing-key.entity.js';
import { SigningKeysService } from '#src/credentials/tokens/signing-keys.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql, provisionDatabase } from '../support/database.js';
import { auditOf, tableDump } from '../factories/credentials.js';
import { linkIdentity } from '../factories/identities.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const PROVIDERS = JSON.stringify([
  {
    id: 'corp',
    name: 'Corp IdP',
    issuer: 'https://idp.corp.example',
    clientId: 'gh',
    clientSecret: 'client-secret-x',
  },
  {
    id: 'social',
    name: 'Social',
    issuer: 'https://social.example',
    clientId: 'gh',
    clientSecret: 'client-secret-y',
  },
]);

function secretsFor(tag: string) {
  return {
    serviceUser: `${tag}-user`,
    accessToken: `tok-${tag}-${randomBytes(12).toString('hex')}`,
    accessSecret: `sec-${tag}-${randomBytes(12).toString('hex')}`,
    displayName: `${tag} account`,
    accessTokenExpires: '2030-01-01T00:00:00.000Z',
  };
}

async function put(t: TestApp, caller: MadeUser, userId: string, service: string, body: object) {
  return t.http
    .put(`/api/v1/users/${userId}/authentications/${service}`)
    .set(caller.auth)
    .send(body);
}

describe('stored external credentials and linked identities', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ OIDC_PROVIDERS: PROVIDERS });
  });
  after(async () => t.close());

  it('stores a credential encrypted, bound to its row, and audits it without secrets', async () => {
    const owner = await makeUser(t);
    const s = secretsFor('github');
    const res = await put(t, owner, owner.user.id, 'github', s);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.accessToken, '********');
    assert.equal(res.body.accessSecret, '********');
    assert.equal(res.body.serviceUser, 'github-user');
    assert.equal(res.body.accessTokenExpires, '2030-01-01T00:00:00.000Z');
    const row = await t.db
      .getRepository(ExternalCredential)
      .findOneByOrFail({ userId: owner.user.id, service: 'github' });
    assert.equal(row.keyId, t.get(SecretBox).activeKeyId);
    assert.equal(row.hasAccessSecret, true);
    const dump = await tableDump(t, 'external_credentials');
    assert.ok(!dump.includes(s.accessToken) && !dump.includes(s.accessSecret));
    const audit = await auditOf(t, 'external_credential.create', owner.user.id);
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]!.changes.includes(s.accessToken));
    assert.ok(!audit[0]!.changes.includes(s.accessSecret));
  });

  it("returns secrets only on the owner's explicit read; lists and admins see them masked", async () => {
    const owner = await makeUser(t);
    const admin = await makeUser(t, { role: 'admin' });
    const s = secretsFor('jira');
    await put(t, owner, 'me', 'jira', s);
    const own = await t.http.get('/api/v1/users/me/authentications/jira').set(owner.auth);
    assert.equal(own.status, 200);
    assert.equal(own.headers['cache-control'], 'no-store');
    assert.equal(own.body.accessToken, s.accessToken);
    assert.equal(own.body.accessSecret, s.accessSecret);
    assert.equal(own.body.secretsMasked, false);
    const byAdmin = await t.http
      .get(`/api/v1/users/${owner.user.id}/authentications/jira`)
      .set(admin.auth);
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.accessToken, '********');
    assert.equal(byAdmin.body.secretsMasked, true);
    assert.ok(!JSON.stringify(byAdmin.body).includes(s.accessToken));
    const list = await t.http.get('/api/v1/users/me/authentications').set(owner.auth);
    assert.equal(list.status, 200);
    assert.ok(!JSON.stringify(list.body).includes(s.accessToken));
    assert.equal(list.body.items[0].accessToken, '********');

    // Updating re-seals and is audited as an update.
    const s2 = { serviceUser: 'jira-2', accessToken: `tok-${randomBytes(8).toString('hex')}` };
    assert.equal((await put(t, owner, 'me', 'jira', s2)).status, 200);
    const again = await t.http.get('/api/v1/users/me/authentications/jira').set(owner.auth);
    assert.equal(again.body.accessToken, s2.accessToken);
    assert.equal(again.body.accessSecret, null);
    assert.equal(again.body.displayName, null);
    assert.equal((await auditOf(t, 'external_credential.update', owner.user.id)).length, 1);
  });

  it('fails to decrypt a ciphertext moved to another row', async () => {
    const a = await makeUser(t);
    const b = await makeUser(t);
    await put(t, a, 'me', 'github', secretsFor('a'));
    await put(t, a, 'me', 'gitlab', secretsFor('a2'));
    await put(t, b, 'me', 'github', secretsFor('b'));
    const repo = t.db.getRepository(ExternalCredential);
    const source = await repo.findOneByOrFail({ userId: a.user.id, service: 'github' });
    for (const [user, service] of [
      [b, 'github'],
      [a, 'gitlab'],
    ] as const) {
      await repo.update(
        { userId: user.user.id, service },
        { ciphertext: source.ciphertext, keyId: source.keyId },
      );
      const res = await t.http.get(`/api/v1/users/me/authentications/${service}`).set(user.auth);
      assert.equal(res.status, 500, `${service}: ${res.status}`);
      assert.equal(res.body.detail, 'Something went wrong on our side.');
    }
    // The original row still opens.
    const ok = await t.http.get('/api/v1/users/me/authentications/github').set(a.auth);
    assert.equal(ok.status, 200);
  });

  it('lists linked identities with stored credentials and unlinks an identity', async () => {
    const owner = await makeUser(t);
    await linkIdentity(t, owner.user.id, 'corp', 'https://idp.corp.example', 'corp-sub-1');
    await put(t, owner, 'me', 'aws', secretsFor('aws'));
    const list = await t.http.get('/api/v1/users/me/authentications').set(owner.auth);
    assert.deepEqual(
      list.body.items.map((i: { kind: string; service: string }) => `${i.kind}:${i.service}`),
      ['credential:aws', 'oidc:corp'],
    );
    const corp = list.body.items[1];
    assert.equal(corp.issuer, 'https://idp.corp.example');
    assert.equal(corp.subject, 'corp-sub-1');
    assert.equal(corp.providerName, 'Corp IdP');
    assert.ok(corp.linkedAt);
    // keyset pages by service
    const p1 = await t.http.get('/api/v1/users/me/authentications?limit=1').set(owner.auth);
    assert.equal(p1.body.items[0].service, 'aws');
    const p2 = await t.http
      .get(`/api/v1/users/me/authentications?limit=1&cursor=${p1.body.nextCursor}`)
      .set(owner.auth);
    assert.equal(p2.body.items[0].service, 'corp');
    assert.equal(p2.body.nextCursor, null);

    const one = await t.http.get('/api/v1/users/me/authentications/corp').set(owner.auth);
    assert.equal(one.body.kind, 'oidc');
    // A provider id is not a name for stored credentials.
    const reserved = await put(t, owner, 'me', 'corp', secretsFor('x'));
    assert.equal(reserved.status, 422);
    assert.equal(reserved.body.rule, 'service_reserved');
    // The owner has a password: unlinking is allowed.
    await t.http.delete('/api/v1/users/me/authentications/corp').set(owner.auth).expect(204);
    assert.equal(await t.db.getRepository(UserIdentity).countBy({ userId: owner.user.id }), 0);
    assert.equal((await auditOf(t, 'identity.unlink', owner.user.id)).length, 1);
    await t.http.delete('/api/v1/users/me/authentications/aws').set(owner.auth).expect(204);
    assert.equal(
      await t.db.getRepository(ExternalCredential).countBy({ userId: owner.user.id }),
      0,
    );
    assert.equal((await auditOf(t, 'external_credential.delete', owner.user.id)).length, 1);
    assert.equal(
      (await t.http.delete('/api/v1/users/me/authentications/aws').set(owner.auth)).status,
      404,
    );
  });

  it('refuses to unlink the last way to sign in (422)', async () => {
    const admin = await makeUser(t, { role: 'admin' });
    const owner = await makeUser(t, { password: null, signIn: false });
    await linkIdentity(t, owner.user.id, 'corp', 'https://idp.corp.example', `c-${owner.user.id}`);
    await linkIdentity(t, owner.user.id, 'social', 'https://social.example', `s-${owner.user.id}`);
    const base = `/api/v1/users/${owner.user.id}/authentications`;
    await t.http.delete(`${base}/social`).set(admin.auth).expect(204);
    const last = await t.http.delete(`${base}/corp`).set(admin.auth);
    assert.equal(last.status, 422);
    assert.equal(last.body.rule, 'last_sign_in_method');
    assert.equal(await t.db.getRepository(UserIdentity).countBy({ userId: owner.user.id }), 1);
  });

  it('validates the service name and the body', async () => {
    const owner = await makeUser(t);
    const badName = await put(t, owner, 'me', 'bad%20name', secretsFor('x'));
    assert.equal(badName.status, 400);
    const badBody = await put(t, owner, 'me', 'svc', {
      accessToken: 1,
      accessTokenExpires: 'soon',
      ownerId: 'x',
    });
    assert.equal(badBody.status, 400);
    const fields = new Set(badBody.body.errors.map((e: { field: string }) => e.field));
    for (const f of ['serviceUser', 'accessToken', 'accessTokenExpires', 'ownerId'])
      assert.ok(fields.has(f), f);
    assert.equal(
      await t.db.getRepository(ExternalCredential).countBy({ userId: owner.user.id }),
      0,
    );
  });

  it("lets only the owner or an admin reach a user's authentications; 401 without a caller", async () => {
    const owner = await makeUser(t);
    const other = await makeUser(t);
    const admin = await makeUser(t, { role: 'admin' });
    await put(t, owner, 'me', 'svc', secretsFor('svc'));
    const base = `/api/v1/users/${owner.user.id}/authentications`;
    assert.equal((await t.http.get(base)).status, 401);
    assert.equal((await t.http.get(`${base}/svc`)).status, 401);
    assert.equal((await t.http.put(`${base}/svc`).send(secretsFor('x'))).status, 401);
    assert.equal((await t.http.delete(`${base}/svc`)).status, 401);
    assert.equal((await t.http.get(base).set(other.auth)).status, 403);
    assert.equal((await t.http.get(`${base}/svc`).set(other.auth)).status, 403);
    assert.equal(
      (await t.http.put(`${base}/svc`).set(other.auth).send(secretsFor('x'))).status,
      403,
    );
    assert.equal((await t.http.delete(`${base}/svc`).set(other.auth)).status, 403);
    assert.equal(
      (await t.http.get('/api/v1/users/me/authentications/svc').set(other.auth)).status,
      404,
    );
    const row = await t.db
      .getRepository(ExternalCredential)
      .findOneByOrFail({ userId: owner.user.id, service: 'svc' });
    assert.equal(row.serviceUser, 'svc-user');
    // An admin may write and delete (never read the secrets).
    assert.equal((await put(t, admin, owner.user.id, 'svc', secretsFor('adm'))).status, 200);
    assert.equal(
      (await t.db.getRepository(ExternalCredential).findOneByOrFail({ id: row.id })).serviceUser,
      'adm-user',
    );
    await t.http.delete(`${base}/svc`).set(admin.auth).expect(204);
    assert.equal(await t.db.getRepository(ExternalCredential).countBy({ id: row.id }), 0);
    assert.equal(
      (
        await t.http
          .get('/api/v1/users/0190aaaa-0000-7000-8000-000000000000/authentications')
          .set(admin.auth)
      ).status,
      404,
    );
  });

  it('refuses reader and demo users storing credentials: they never write', async () => {
    for (const role of ['reader', 'demo'] as const) {
      const owner = await makeUser(t, { role });
      const res = await put(t, owner, 'me', 'svc', secretsFor(role));
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(
        await t.db.getRepository(ExternalCredential).countBy({ userId: owner.user.id }),
        0,
      );
      assert.equal((await auditOf(t, 'external_credential.create', owner.user.id)).length, 0);
    }
  });
});

describe('encryption key rotation across restarts', () => {
  let url: string;
  let drop: () => Promise<void>;
  before(async () => {
    if (isMysql()) ({ url, drop } = await provisionDatabase());
    else {
      const file = join(
        tmpdir(),
        `gatehouse-rotation-${process.pid}-${randomBytes(4).toString('hex')}.sqlite`,
      );
      url = `sqlite:${file}`;
      drop = async () => {
        for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
      };
    }
  });
  after(async () => drop());

  it('keeps rows sealed under an old key readable after a new key becomes active', async () => {
    const k2 = randomBytes(32).toString('base64');
    const first = await createTestApp({ DATABASE_URL: url });
    const owner = await makeUser(first);
    const old = secretsFor('old');
    assert.equal((await put(first, owner, 'me', 'svc-old', old)).status, 200);
    const oldKeyId = first.get(SecretBox).activeKeyId;
    await first.close();

    const second = await createTestApp({
      DATABASE_URL: url,
      ENCRYPTION_KEYS: JSON.stringify({ k2 }),
      ENCRYPTION_KEY_ACTIVE: 'k2',
    });
    try {
      const read = await second.http
        .get('/api/v1/users/me/authentications/svc-old')
        .set(owner.auth);
      assert.equal(read.status, 200);
      assert.equal(read.body.accessToken, old.accessToken);
      const fresh = secretsFor('new');
      assert.equal((await put(second, owner, 'me', 'svc-new', fresh)).status, 200);
      const rows = await second.db
        .getRepository(ExternalCredential)
        .findBy({ userId: owner.user.id });
      assert.deepEqual(rows.map((r) => `${r.service}:${r.keyId}`).sort(), [
        `svc-new:k2`,
        `svc-old:${oldKeyId}`,
      ]);
      const readNew = await second.http
        .get('/api/v1/users/me/authentications/svc-new')
        .set(owner.auth);
      assert.equal(readNew.body.accessToken, fresh.accessToken);
    } finally {
      await second.close();
    }

    // Without k2 configured, its rows say so (503), the others still open.
    const third = await createTestApp({ DATABASE_URL: url });
    try {
      const missing = await third.http
        .get('/api/v1/users/me/authentications/svc-new')
        .set(owner.auth);
      assert.equal(missing.status, 503);
      assert.match(missing.body.detail, /k2/);
      const still = await third.http
        .get('/api/v1/users/me/authentications/svc-old')
        .set(owner.auth);
      assert.equal(still.status, 200);
    } finally {
      await third.close();
    }

    // A changed SECRET_KEY: the sealed signing key cannot be opened, so a new one takes over at
    // start-up and the old public key stays published.
    const fourth = await createTestApp({ DATABASE_URL: url, SECRET_KEY: 'z'.repeat(40) });
    try {
      const kid = (await fourth.get(SigningKeysService).activeKey()).kid;
      const keys = await fourth.db.getRepository(SigningKey).find();
      assert.equal(keys.length, 2);
      assert.deepEqual(
        keys.filter((k) => k.retiredAt === null).map((k) => k.id),
        [kid],
      );
      const jwks = await fourth.http.get('/.well-known/jwks.json');
      assert.equal(jwks.body.keys.length, 2);
    } finally {
      await fourth.close();
    }
  });
});
