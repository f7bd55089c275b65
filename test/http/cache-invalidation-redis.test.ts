import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionsService } from '#src/auth/sessions/sessions.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql } from '../support/database.js';
import { makeApiKey } from '../factories/credentials.js';
import { makeUser, type MadeUser } from '../factories/users.js';

/** Database 15, so the tests never touch a developer's data in database 0 (see CONTRIBUTING.md). */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
/** Nothing listens there: an instance configured with it has Redis down from the start. */
const DEAD_REDIS_URL = 'redis://127.0.0.1:1/15';

/**
 * Two instances on one database, sharing Redis: a revocation or role change made through one must
 * reach the other's credential caches at once (well within their 2 s TTL), through the pub/sub
 * channel. Needs the local Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379/15).
 */
describe('credential caches across instances (Redis pub/sub)', () => {
  let a: TestApp;
  let b: TestApp;
  const sqliteFile = join(tmpdir(), `gatehouse-redis-${process.pid}.sqlite`);

  before(async () => {
    a = await createTestApp({
      REDIS_URL,
      ...(isMysql() ? {} : { DATABASE_URL: `sqlite:${sqliteFile}` }),
    });
    // B runs on A's database (on MySQL, A's freshly provisioned one).
    b = await createTestApp({ REDIS_URL, DATABASE_URL: a.config.database.url });
  });
  after(async () => {
    await b.close();
    await a.close();
    for (const f of [sqliteFile, `${sqliteFile}-wal`, `${sqliteFile}-shm`])
      rmSync(f, { force: true });
  });

  const me = (t: TestApp, auth: { Authorization: string }) =>
    t.http.get('/api/v1/users/me').set(auth);

  /** Gives B a fresh cache entry for the credential (older ones may be close to their TTL). */
  async function freshOnB(auth: { Authorization: string }): Promise<void> {
    assert.equal((await me(b, auth)).status, 200);
    await sleep(2_100);
    assert.equal((await me(b, auth)).status, 200);
  }

  /** Polls B until `done` holds; fails if that takes 1 s (the cache TTL is 2 s). */
  async function onBWithinASecond(
    auth: { Authorization: string },
    done: (res: { status: number; body: Record<string, unknown> }) => boolean,
  ): Promise<void> {
    const start = Date.now();
    for (;;) {
      const res = await me(b, auth);
      if (done(res)) return;
      assert.ok(Date.now() - start < 1_000, `B still answers ${res.status} after 1 s`);
      await sleep(20);
    }
  }

  it('B drops a session revoked through A at once', async () => {
    const u: MadeUser = await makeUser(a);
    await freshOnB(u.auth);
    assert.ok(b.get(SessionsService).cache.size > 0, 'B serves the session from its cache');
    const sid = (await a.http.get('/api/v1/auth/whoami').set(u.auth)).body.credential.id as string;
    await a.http.delete(`/api/v1/users/${u.user.id}/sessions/${sid}`).set(u.auth).expect(204);
    await onBWithinASecond(u.auth, (res) => res.status === 401);
  });

  it('B shows a role change made through A at once', async () => {
    const admin = await makeUser(a, { role: 'admin' });
    const u = await makeUser(a);
    await freshOnB(u.auth);
    assert.equal((await me(b, u.auth)).body.role, 'user');
    const cur = await a.http.get(`/api/v1/users/${u.user.id}`).set(admin.auth).expect(200);
    await a.http
      .patch(`/api/v1/users/${u.user.id}`)
      .set(admin.auth)
      .send({ role: 'reader', version: cur.body.version })
      .expect(200);
    await onBWithinASecond(u.auth, (res) => res.status === 200 && res.body.role === 'reader');
  });

  it('an instance whose Redis is down refuses a revocation made elsewhere at the next request', async () => {
    const c = await createTestApp({
      REDIS_URL: DEAD_REDIS_URL,
      DATABASE_URL: a.config.database.url,
    });
    try {
      const u = await makeUser(a);
      assert.equal((await me(c, u.auth)).status, 200);
      assert.equal((await me(c, u.auth)).status, 200);
      assert.ok(c.get(SessionsService).cache.size > 0, 'C serves the session from its cache');
      const sid = (await a.http.get('/api/v1/auth/whoami').set(u.auth)).body.credential
        .id as string;
      await a.http.delete(`/api/v1/users/${u.user.id}/sessions/${sid}`).set(u.auth).expect(204);
      assert.equal((await me(c, u.auth)).status, 401);
    } finally {
      await c.close();
    }
  });

  it('B refuses an API key revoked through A at once', async () => {
    const u = await makeUser(a);
    const key = await makeApiKey(a, u);
    await freshOnB(key.auth);
    await a.http.delete(`/api/v1/users/${u.user.id}/api-keys/${key.id}`).set(u.auth).expect(204);
    await onBWithinASecond(key.auth, (res) => res.status === 401);
  });
});
