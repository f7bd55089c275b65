import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionsService } from '#src/auth/sessions/sessions.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql } from '../support/database.js';
import { makeApiKey, makeGrant, refresh } from '../factories/credentials.js';
import { makeRole, giveRole } from '../factories/roles.js';
import { makeUser } from '../factories/users.js';

type Auth = { Authorization: string };

/**
 * Two instances on one database and no Redis (on SQLite: a temporary file both open; on MySQL: the
 * test database). Whatever A revokes, B refuses at the very next request, although B had the
 * credential in its cache: B reads principal_version before trusting its cache.
 */
describe('credential caches across instances without Redis', () => {
  let a: TestApp;
  let b: TestApp;
  const sqliteFile = join(tmpdir(), `gatehouse-nodb-redis-${process.pid}.sqlite`);

  before(async () => {
    a = await createTestApp(isMysql() ? {} : { DATABASE_URL: `sqlite:${sqliteFile}` });
    b = await createTestApp({ DATABASE_URL: a.config.database.url });
  });
  after(async () => {
    await b.close();
    await a.close();
    for (const f of [sqliteFile, `${sqliteFile}-wal`, `${sqliteFile}-shm`])
      rmSync(f, { force: true });
  });

  const me = (t: TestApp, auth: Auth) => t.http.get('/api/v1/users/me').set(auth);

  /** B has answered twice for the credential, so the second answer came from its cache. */
  async function cachedOnB(auth: Auth): Promise<void> {
    assert.equal((await me(b, auth)).status, 200);
    assert.equal((await me(b, auth)).status, 200);
  }

  it('B refuses a session revoked through A at the next request', async () => {
    const u = await makeUser(a);
    await cachedOnB(u.auth);
    assert.ok(b.get(SessionsService).cache.size > 0, 'B serves the session from its cache');
    const sid = (await a.http.get('/api/v1/auth/whoami').set(u.auth)).body.credential.id as string;
    await a.http.delete(`/api/v1/users/${u.user.id}/sessions/${sid}`).set(u.auth).expect(204);
    assert.equal((await me(b, u.auth)).status, 401);
  });

  it('B refuses every credential of a user disabled through A at the next request', async () => {
    const admin = await makeUser(a, { role: 'admin' });
    const u = await makeUser(a);
    const key = await makeApiKey(a, u);
    await cachedOnB(u.auth);
    await cachedOnB(key.auth);
    const cur = await a.http.get(`/api/v1/users/${u.user.id}`).set(admin.auth).expect(200);
    await a.http
      .patch(`/api/v1/users/${u.user.id}`)
      .set(admin.auth)
      .send({ status: 'disabled', version: cur.body.version })
      .expect(200);
    assert.equal((await me(b, u.auth)).status, 401);
    assert.equal((await me(b, key.auth)).status, 401);
  });

  it('B shows a lost server role and a lost named role at the next request', async () => {
    const admin = await makeUser(a, { role: 'admin' });
    const auditors = await makeRole(a, { permissions: ['audit.read'] });
    const u = await makeUser(a);
    await giveRole(a, u.user.id, auditors);
    const key = await makeApiKey(a, u);
    await cachedOnB(key.auth);
    assert.deepEqual((await me(b, key.auth)).body.roles, [auditors.name]);
    const cur = await a.http.get(`/api/v1/users/${u.user.id}`).set(admin.auth).expect(200);
    await a.http
      .patch(`/api/v1/users/${u.user.id}`)
      .set(admin.auth)
      .send({ role: 'reader', roles: [], version: cur.body.version })
      .expect(200);
    const after = await me(b, key.auth);
    assert.equal(after.status, 200);
    assert.equal(after.body.role, 'reader');
    assert.deepEqual(after.body.roles, []);
  });

  it('B refuses an API key revoked through A at the next request', async () => {
    const u = await makeUser(a);
    const key = await makeApiKey(a, u);
    await cachedOnB(key.auth);
    await a.http.delete(`/api/v1/users/${u.user.id}/api-keys/${key.id}`).set(u.auth).expect(204);
    assert.equal((await me(b, key.auth)).status, 401);
  });

  it('B refuses an access token of a grant revoked through A at the next request', async () => {
    const u = await makeUser(a);
    const grant = await makeGrant(a, u);
    const res = await refresh(a, grant.refreshToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const auth = { Authorization: `Bearer ${res.body.access_token as string}` };
    await cachedOnB(auth);
    await a.http.delete(`/api/v1/users/${u.user.id}/grants/${grant.id}`).set(u.auth).expect(204);
    assert.equal((await me(b, auth)).status, 401);
  });

  it('under load on B, no request B begins after A answered the revocation is accepted', async () => {
    const u = await makeUser(a);
    await cachedOnB(u.auth);
    const sid = (await a.http.get('/api/v1/auth/whoami').set(u.auth)).body.credential.id as string;
    let revokedAt = Infinity;
    let stop = false;
    const stale: number[] = [];
    let accepted = 0;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const started = performance.now();
        const res = await me(b, u.auth);
        if (res.status === 200) {
          accepted++;
          if (started > revokedAt) stale.push(started - revokedAt);
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    await sleep(300);
    await a.http.delete(`/api/v1/users/${u.user.id}/sessions/${sid}`).set(u.auth).expect(204);
    revokedAt = performance.now();
    await sleep(500);
    stop = true;
    await Promise.all(workers);
    assert.ok(accepted > 0, 'B answered before the revocation');
    assert.deepEqual(stale, [], 'requests begun after the revocation were accepted');
  });
});
