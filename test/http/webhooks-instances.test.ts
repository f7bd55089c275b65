import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql } from '../support/database.js';
import { makeUser } from '../factories/users.js';
import { createWebhook, eventually, Receiver } from '../factories/webhooks.js';

/**
 * Two instances on one MySQL/MariaDB database, both running their delivery worker: each event is
 * delivered once per successful attempt. (SQLite is one process by design; this needs MySQL.)
 */
describe('webhook delivery with two instances on one database', { skip: !isMysql() }, () => {
  let a: TestApp;
  let b: TestApp;
  let rx: Receiver;

  before(async () => {
    a = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    b = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', DATABASE_URL: a.config.database.url });
    rx = await new Receiver().start();
  });
  after(async () => {
    await b.close();
    await a.close();
    await rx.stop();
  });

  it('delivers every event exactly once, whichever instance recorded it', async () => {
    const admin = await makeUser(a, { role: 'admin' });
    const path = '/both';
    const hook = await createWebhook(a, admin.auth, { url: rx.url(path), events: ['role.*'] });
    const targets: string[] = [];
    const record = (t: TestApp, id: string) =>
      t.get(Database).transaction((tx) =>
        t.get(AuditService).record(tx, {
          actorId: null,
          action: 'role.update',
          targetType: 'role',
          targetId: id,
        }),
      );
    // Two writers at a time, one per instance (the audit chain serialises writers anyway).
    for (let i = 0; i < 20; i++) {
      const pair = [newId(), newId()];
      targets.push(...pair);
      await Promise.all([record(a, pair[0]!), record(b, pair[1]!)]);
    }
    const rows = await eventually(async () => {
      const r = await a.db.query<{ id: string; status: string; attempts: number }[]>(
        'SELECT id, status, attempts FROM webhook_deliveries WHERE endpoint_id = ?',
        [hook.id],
      );
      return r.length === targets.length && r.every((x) => x.status === 'succeeded')
        ? r
        : undefined;
    }, 'every delivery to succeed');
    assert.ok(rows.every((r) => Number(r.attempts) === 1));
    const got = rx.at(path);
    const ids = got.map((r) => String(r.headers['webhook-id']));
    assert.equal(ids.length, targets.length, 'one request per event');
    assert.equal(new Set(ids).size, targets.length, 'no webhook-id twice');
    const seen = got.map((r) => (JSON.parse(r.body) as { data: { target: { id: string } } }).data);
    assert.deepEqual(seen.map((d) => d.target.id).sort(), [...targets].sort());
    const attempts = await a.db.query<{ worker: string }[]>(
      'SELECT w.worker FROM webhook_attempts w JOIN webhook_deliveries d ON d.id = w.delivery_id WHERE d.endpoint_id = ?',
      [hook.id],
    );
    assert.equal(attempts.length, targets.length);
    const outbox = await a.db.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM event_outbox',
    );
    assert.equal(Number(outbox[0]!.n), 0, 'every event taken once');
  });
});
