import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { WebhookWorker } from '#src/webhooks/webhook-worker.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { createWebhook, eventually, Receiver } from '../factories/webhooks.js';

/**
 * The event outbox takes a row only for a change an enabled endpoint wants, and the worker asks
 * for another round at once only when a batch was full. The worker's own rounds are stopped here
 * (the test drives them), so a row the worker would have taken cannot hide a row never written.
 */
describe('webhook outbox: events only for what an enabled endpoint takes', () => {
  let t: TestApp;
  let rx: Receiver;
  let admin: MadeUser;
  let worker: WebhookWorker;

  before(async () => {
    t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    rx = await new Receiver().start();
    admin = await makeUser(t, { role: 'admin' });
    worker = t.get(WebhookWorker);
    await worker.beforeApplicationShutdown();
  });
  after(async () => {
    await t.close();
    await rx.stop();
  });

  async function recordChange(action: string, targetId: string): Promise<void> {
    await t
      .get(Database)
      .transaction((tx) =>
        t
          .get(AuditService)
          .record(tx, { actorId: null, action, targetType: 'role', targetId, changes: {} }),
      );
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const rows = await t.db.query<{ n: number | string }[]>(sql, params);
    return Number(rows[0]!.n);
  }
  async function setEnabled(id: string, enabled: boolean): Promise<void> {
    const res = await t.http.patch(`/api/v1/webhooks/${id}`).set(admin.auth).send({ enabled });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
  const outbox = (): Promise<number> => count('SELECT COUNT(*) AS n FROM event_outbox');
  const audited = (targetId: string): Promise<number> =>
    count('SELECT COUNT(*) AS n FROM audit_entries WHERE target_id = ?', [targetId]);

  it('writes the audit entry but no event while no enabled endpoint takes the action', async () => {
    const before = await outbox();
    const alone = newId();
    await recordChange('role.create', alone);
    assert.equal(await audited(alone), 1);
    assert.equal(await outbox(), before, 'no endpoint at all: no event');

    const hook = await createWebhook(t, admin.auth, {
      url: rx.url('/roles-update'),
      events: ['role.update'],
    });
    const unwanted = newId();
    await recordChange('role.create', unwanted);
    assert.equal(await audited(unwanted), 1);
    assert.equal(await outbox(), before, "role.create is not in the endpoint's filters");

    await setEnabled(hook.id, false);
    const paused = newId();
    await recordChange('role.update', paused);
    assert.equal(await audited(paused), 1);
    assert.equal(await outbox(), before, 'the endpoint that takes it is disabled');

    await setEnabled(hook.id, true);
    const wanted = newId();
    await recordChange('role.update', wanted);
    assert.equal(await outbox(), before + 1, 'enabled again: the event is written');
    const rows = await t.db.query<{ action: string; target_id: string }[]>(
      'SELECT action, target_id FROM event_outbox',
    );
    assert.deepEqual(
      rows.map((r) => [r.action, r.target_id]),
      [['role.update', wanted]],
    );
  });

  it('drains the outbox in one round, and asks for another only after a full batch', async () => {
    const path = '/batch';
    const hook = await createWebhook(t, admin.auth, {
      url: rx.url(path),
      events: ['role.delete'],
    });
    // What the previous test left: one event, taken in one round that reports nothing left.
    assert.equal(await worker.runOnce(), false);
    assert.equal(await outbox(), 0);

    const targets = Array.from({ length: 101 }, () => newId());
    for (const id of targets) await recordChange('role.delete', id);
    assert.equal(await outbox(), 101);
    assert.equal(await worker.runOnce(), true, 'a full batch of 100: another round at once');
    assert.equal(await outbox(), 1);
    assert.equal(await worker.runOnce(), false, 'the last event: drained');
    assert.equal(await outbox(), 0);
    assert.equal(
      await count('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?', [hook.id]),
      101,
    );

    // Started again, the worker sends them (the stopped worker claimed none).
    worker.onApplicationBootstrap();
    await eventually(
      async () =>
        (await count(
          "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'succeeded'",
          [hook.id],
        )) === 101 || undefined,
      'the 101 deliveries',
    );
    assert.deepEqual(
      new Set(
        rx
          .at(path)
          .map((r) => (JSON.parse(r.body) as { data: { target: { id: string } } }).data.target.id),
      ),
      new Set(targets),
    );
  });
});
