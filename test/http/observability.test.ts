import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { API_KEY_PREFIX } from '#src/credentials/api-keys/api-keys.service.js';
import { generateToken } from '#src/crypto/tokens.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser } from '../factories/users.js';
import { API, login } from '../factories/auth.js';
import { flip, makeApiKey } from '../factories/credentials.js';
import { until } from '../support/async-context.js';
import { contextCostsPromises } from '#src/common/request-context.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  async waitFor(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 5000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines().find(pred);
      if (found) return found;
      if (Date.now() > end) throw new Error('the log line never came');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('request ids in the access log, warnings and audit entries', () => {
  let t: TestApp;
  const log = new Capture();
  before(async () => {
    t = await createTestApp({ LOG_LEVEL: 'info', LOCKOUT_THRESHOLD: '1' }, { logDestination: log });
  });
  after(async () => t.close());

  it('writes one access line per request with its id, method, path and status, no query string', async () => {
    const res = await t.http
      .get('/health/live?token=not-for-the-log')
      .set('X-Request-Id', 'req-access-1')
      .expect(200);
    assert.equal(res.headers['x-request-id'], 'req-access-1');
    const line = await log.waitFor((l) => l.msg === 'request' && l.reqId === 'req-access-1');
    const { ip, ...req } = line.req as Record<string, unknown>;
    assert.deepEqual(req, { id: 'req-access-1', method: 'GET', path: '/health/live' });
    assert.match(String(ip), /127\.0\.0\.1$/);
    assert.deepEqual(line.res, { status: 200 });
    assert.equal(typeof line.responseTime, 'number');
    assert.equal(log.text.includes('not-for-the-log'), false);
    const other = await t.http.get('/health/live').expect(200);
    const generated = other.headers['x-request-id'] as string;
    assert.match(generated, /^[0-9a-f-]{36}$/);
    await log.waitFor((l) => l.msg === 'request' && l.reqId === generated);
    assert.equal(
      log.lines().filter((l) => l.msg === 'request' && l.reqId === 'req-access-1').length,
      1,
    );
  });

  it('puts the request id on a warning the request causes', async () => {
    const u = await makeUser(t, { signIn: false });
    await login(t, u.email, 'wrong password, long enough')
      .set('X-Request-Id', 'req-lock-1')
      .expect(401);
    const warning = await log.waitFor((l) => l.msg === 'account locked after failed sign-ins');
    assert.equal(warning.level, 40);
    assert.equal(warning.reqId, 'req-lock-1');
  });

  it('records the request id on the audit entries of the request', async () => {
    const u = await makeUser(t);
    await t.http
      .post(`${API}/users/${u.user.id}/api-keys`)
      .set(u.auth)
      .set('X-Request-Id', 'req-audit-1')
      .send({ name: 'audited key' })
      .expect(201);
    const entries = await t.db
      .getRepository(AuditEntry)
      .find({ where: { targetId: u.user.id, targetType: 'user', action: 'api_key.create' } });
    assert.equal(entries.length, 1);
    assert.ok(entries.every((e) => e.requestId === 'req-audit-1'));
  });

  it('names the request on a refused credential of a route served without a request context', async () => {
    const owner = await makeUser(t);
    const key = await makeApiKey(t, owner);
    await t.http
      .delete(`${API}/users/${owner.user.id}/api-keys/${key.id}`)
      .set(owner.auth)
      .expect(204);
    await t.http.get(`${API}/users/me`).set(key.auth).set('X-Request-Id', 'req-hot-1').expect(401);
    const refused = await t.db.getRepository(AuditEntry).find({
      where: { targetId: owner.user.id, action: 'api_key.use_refused' },
    });
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.requestId, 'req-hot-1');
    const warning = await log.waitFor(
      (l) => l.msg === 'credential use refused' && l.credentialId === key.id,
    );
    assert.equal(warning.reqId, 'req-hot-1');

    // A well-formed key nobody issued: logged (not audited), with the request's id.
    await t.http
      .get(`${API}/users/me`)
      .set('Authorization', `Bearer ${generateToken(API_KEY_PREFIX)}`)
      .set('X-Request-Id', 'req-hot-2')
      .expect(401);
    const unknown = await log.waitFor(
      (l) => l.msg === 'unknown credential presented' && l.reqId === 'req-hot-2',
    );
    assert.equal(unknown.kind, 'api_key');
  });

  it('refuses a token whose checksum fails before any lookup, even when the real one is cached', async () => {
    const owner = await makeUser(t);
    const key = await makeApiKey(t, owner);
    // Both real tokens are used first: their hashes are in the credential caches.
    await t.http.get(`${API}/users/me`).set(key.auth).expect(200);
    await t.http.get(`${API}/users/me`).set(owner.auth).expect(200);
    // One character of the random body changed: same prefix and length, the checksum fails.
    for (const [token, id] of [
      [key.key, 'req-forged-key'],
      [owner.token, 'req-forged-session'],
    ] as const) {
      const res = await t.http
        .get(`${API}/users/me`)
        .set('Authorization', `Bearer ${flip(token)}`)
        .set('X-Request-Id', id)
        .expect(401);
      assert.equal(res.body.status, 401);
    }
    // A well-formed unknown key after them is looked up and logged; the forged ones never were.
    await t.http
      .get(`${API}/users/me`)
      .set('Authorization', `Bearer ${generateToken(API_KEY_PREFIX)}`)
      .set('X-Request-Id', 'req-forged-after')
      .expect(401);
    await log.waitFor(
      (l) => l.msg === 'unknown credential presented' && l.reqId === 'req-forged-after',
    );
    const looked = log
      .lines()
      .filter(
        (l) =>
          l.msg === 'unknown credential presented' && String(l.reqId).startsWith('req-forged-'),
      );
    assert.deepEqual(
      looked.map((l) => l.reqId),
      ['req-forged-after'],
    );
    // Something that starts like a JWT but is not one: refused the same way.
    await t.http
      .get(`${API}/users/me`)
      .set('Authorization', 'Bearer eyJhbGciOi.eyJ!.not-a-jwt')
      .expect(401);
    // The real ones still work.
    await t.http.get(`${API}/users/me`).set(key.auth).expect(200);
    await t.http.get(`${API}/users/me`).set(owner.auth).expect(200);
  });

  it('serves GET /users/me without turning the request context (and its promise hooks) on', async () => {
    const u = await makeUser(t);
    // A write holds the context while it is served; it is off once none has held it for a second.
    await t.http
      .post(`${API}/users/${u.user.id}/api-keys`)
      .set(u.auth)
      .send({ name: 'a write' })
      .expect(201);
    await until(() => !contextCostsPromises());
    const me = await t.http.get(`${API}/users/me`).set(u.auth).expect(200);
    assert.equal(me.body.id, u.user.id);
    assert.equal(contextCostsPromises(), false);
  });

  it('logs Nest route mapping at debug, not info', () => {
    const mapped = log.lines().filter((l) => /Mapped \{/.test(String(l.msg)));
    assert.deepEqual(mapped, []);
  });
});

describe('/metrics', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ METRICS_TOKEN: 'metrics-token-for-tests' });
  });
  after(async () => t.close());

  it('needs the METRICS_TOKEN as a bearer token when it is set', async () => {
    assert.equal((await t.http.get('/metrics')).status, 401);
    assert.equal(
      (await t.http.get('/metrics').set('Authorization', 'Bearer wrong-token')).status,
      401,
    );
    const res = await t.http
      .get('/metrics')
      .set('Authorization', 'Bearer metrics-token-for-tests')
      .expect(200);
    assert.match(res.text, /^gatehouse_http_requests_total\{/m);
  });

  it("has prom-client's default metrics under their standard names and no gauge named _total", async () => {
    const res = await t.http
      .get('/metrics')
      .set('Authorization', 'Bearer metrics-token-for-tests')
      .expect(200);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      assert.match(res.text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    assert.doesNotMatch(res.text, /^# TYPE gatehouse_(process|nodejs)_/m);
    const types = [...res.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    const totalGauges = types.filter(([, n, type]) => type === 'gauge' && n!.endsWith('_total'));
    assert.deepEqual(
      totalGauges.map(([, n]) => n),
      [],
    );
    assert.ok(
      types.filter(([, n]) => n!.endsWith('_total')).every(([, , type]) => type === 'counter'),
    );
  });

  it('samples the event-loop delay every METRICS_LOOP_DELAY_RESOLUTION_MS (100 ms by default)', async () => {
    const scrape = async (): Promise<(name: string) => number> => {
      const res = await t.http
        .get('/metrics')
        .set('Authorization', 'Bearer metrics-token-for-tests')
        .expect(200);
      return (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text)?.[1]);
    };
    await scrape(); // the monitor's histogram restarts at every scrape
    await new Promise((resolve) => setTimeout(resolve, 450));
    const value = await scrape();
    // Each sample is the time between two wake-ups of the monitor's timer: never much under its
    // interval (prom-client's own 10 ms would read about 0.010 here), later on a busy machine.
    assert.ok(value('nodejs_eventloop_lag_max_seconds') > 0, 'no sample in 450 ms');
    const min = value('nodejs_eventloop_lag_min_seconds');
    assert.ok(min >= 0.09, `min ${min}`);
  });
});

describe('/metrics in production without METRICS_TOKEN', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ NODE_ENV: 'production', BCRYPT_COST: '10' });
  });
  after(async () => t.close());

  it('answers a direct loopback caller, and refuses a proxied one', async () => {
    await t.http.get('/metrics').expect(200);
    assert.equal((await t.http.get('/metrics').set('X-Forwarded-For', '203.0.113.9')).status, 403);
  });
});
