import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { WebhookWorker } from '#src/webhooks/webhook-worker.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { createWebhook, eventually, Receiver, type Received } from '../factories/webhooks.js';
import { createGroup, createWorkspace, setWorkspaceRole, tag } from '../factories/workspaces.js';

interface Delivery {
  id: string;
  eventType: string;
  status: string;
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  attempts: {
    attempt: number;
    statusCode: number | null;
    succeeded: boolean;
    error: string | null;
  }[];
}

interface EventBody {
  type: string;
  timestamp: string;
  data: {
    seq: string;
    action: string;
    actorId: string | null;
    target: { type: string; id: string };
    workspaceId: string | null;
    changes: Record<string, unknown>;
  };
}

const parse = (r: Received): EventBody => JSON.parse(r.body) as EventBody;

describe('webhooks (WEBHOOK_ALLOW_PRIVATE=true, receiver on 127.0.0.1)', () => {
  let t: TestApp;
  let rx: Receiver;
  let admin: MadeUser;

  before(async () => {
    t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    rx = await new Receiver().start();
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => {
    await t.close();
    await rx.stop();
  });

  /** Records one change in its own committed transaction, as any service does. */
  async function recordChange(action: string, targetType: string, targetId: string) {
    await t
      .get(Database)
      .transaction((tx) =>
        t
          .get(AuditService)
          .record(tx, { actorId: null, action, targetType, targetId, changes: {} }),
      );
  }

  async function deliveries(id: string, auth = admin.auth): Promise<Delivery[]> {
    const res = await t.http.get(`/api/v1/webhooks/${id}/deliveries`).set(auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as { items: Delivery[] }).items;
  }

  it('delivers signed events that the reference library verifies', async () => {
    const path = '/signed';
    const hook = await createWebhook(t, admin.auth, {
      url: rx.url(path),
      events: ['user.*'],
      description: 'signed',
    });
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const row = await t.db.query<{ secret_ciphertext: string; url: string }[]>(
      'SELECT secret_ciphertext, url FROM webhook_endpoints WHERE id = ?',
      [hook.id],
    );
    assert.equal(row.length, 1);
    assert.ok(!row[0]!.secret_ciphertext.includes(hook.secret.slice(6)), 'stored sealed');

    const u = await makeUser(t, { signIn: false });
    const got = await eventually(
      () =>
        rx.at(path).find((r) => {
          const b = parse(r);
          return b.type === 'user.create' && b.data.target.id === u.user.id;
        }),
      'the user.create event',
    );
    const verified = new Webhook(hook.secret).verify(got.body, {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    }) as EventBody;
    assert.equal(verified.type, 'user.create');
    assert.equal(verified.data.target.type, 'user');
    assert.equal(verified.data.workspaceId, null);
    assert.ok(!got.body.includes('password'), 'no secrets in the payload');
    assert.throws(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, {
        'webhook-id': String(got.headers['webhook-id']),
        'webhook-timestamp': String(got.headers['webhook-timestamp']),
        'webhook-signature': String(got.headers['webhook-signature']),
      }),
    );

    const ds = await eventually(async () => {
      const all = await deliveries(hook.id);
      const d = all.find((x) => x.id === got.headers['webhook-id']);
      return d?.status === 'succeeded' ? d : undefined;
    }, 'the delivery log');
    assert.equal(ds.eventType, 'user.create');
    assert.equal(ds.attemptCount, 1);
    assert.equal(ds.lastStatusCode, 200);
    assert.deepEqual(
      ds.attempts.map((a) => [a.attempt, a.statusCode, a.succeeded, a.error]),
      [[1, 200, true, null]],
    );
    const dbRow = await t.db.query<{ status: string; attempts: number }[]>(
      'SELECT status, attempts FROM webhook_deliveries WHERE id = ?',
      [ds.id],
    );
    assert.deepEqual(
      dbRow.map((r) => [r.status, Number(r.attempts)]),
      [['succeeded', 1]],
    );
  });

  it('retries a delivery the receiver refused (500, then 200) and logs both attempts', async () => {
    const path = '/flaky';
    rx.script(path, [500, 200]);
    const hook = await createWebhook(t, admin.auth, { url: rx.url(path), events: ['role.update'] });
    const target = newId();
    await recordChange('role.update', 'role', target);
    const first = await eventually(async () => {
      const [d] = await deliveries(hook.id);
      return d && d.attemptCount === 1 ? d : undefined;
    }, 'the first attempt');
    assert.equal(first.status, 'pending');
    assert.equal(first.lastStatusCode, 500);
    // The retry is due 5–10 s later: move the worker's clock rather than wait.
    const worker = t.get(WebhookWorker);
    worker.clock = () => new Date(Date.now() + 60 * 60 * 1000);
    try {
      worker.wake();
      const done = await eventually(async () => {
        const [d] = await deliveries(hook.id);
        return d?.status === 'succeeded' ? d : undefined;
      }, 'the retried delivery');
      assert.equal(done.attemptCount, 2);
      assert.deepEqual(
        done.attempts.map((a) => [a.attempt, a.statusCode, a.succeeded]),
        [
          [1, 500, false],
          [2, 200, true],
        ],
      );
      assert.equal(done.attempts[0]!.error, 'answered 500');
    } finally {
      worker.clock = () => new Date();
    }
    const seen = rx.at(path);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.headers['webhook-id'], seen[1]!.headers['webhook-id']);
    assert.equal(parse(seen[1]!).data.target.id, target);
  });

  it('sends nothing for a change whose transaction rolled back', async () => {
    const path = '/rollback';
    const hook = await createWebhook(t, admin.auth, { url: rx.url(path), events: ['role.delete'] });
    const lost = newId();
    const kept = newId();
    await assert.rejects(
      t.get(Database).transaction(async (tx) => {
        await t.get(AuditService).record(tx, {
          actorId: null,
          action: 'role.delete',
          targetType: 'role',
          targetId: lost,
        });
        throw new Error('the change failed after its audit record');
      }),
      /the change failed/,
    );
    await recordChange('role.delete', 'role', kept);
    await eventually(
      () => rx.at(path).find((r) => parse(r).data.target.id === kept),
      'the committed event',
    );
    // The committed one, which came after, is delivered: the rolled-back one never existed.
    assert.deepEqual(
      rx.at(path).map((r) => parse(r).data.target.id),
      [kept],
    );
    const rows = await t.db.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?',
      [hook.id],
    );
    assert.equal(Number(rows[0]!.n), 1);
    const audit = await t.db.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM audit_entries WHERE target_id = ?',
      [lost],
    );
    assert.equal(Number(audit[0]!.n), 0);
  });

  it('does not follow redirects', async () => {
    const path = '/moved';
    rx.script(path, [302]);
    const hook = await createWebhook(t, admin.auth, { url: rx.url(path), events: ['role.create'] });
    await recordChange('role.create', 'role', newId());
    const d = await eventually(async () => {
      const [x] = await deliveries(hook.id);
      return x && x.attemptCount >= 1 ? x : undefined;
    }, 'the redirected attempt');
    assert.equal(d.status, 'pending');
    assert.equal(d.lastStatusCode, 302);
    assert.equal(d.lastError, 'redirect (302) not followed');
    assert.equal(rx.at(`${path}/redirected`).length, 0);
  });

  it('signs with both secrets during a rotation overlap', async () => {
    const path = '/rotated';
    const hook = await createWebhook(t, admin.auth, { url: rx.url(path), events: ['role.*'] });
    const rotated = await t.http.post(`/api/v1/webhooks/${hook.id}/secret`).set(admin.auth);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const body = rotated.body as { secret: string; previousSecretExpiresAt: string };
    assert.notEqual(body.secret, hook.secret);
    const overlap = Date.parse(body.previousSecretExpiresAt) - Date.now();
    assert.ok(overlap > 23 * 3600_000 && overlap <= 24 * 3600_000, 'a 24 h overlap');
    const shown = await t.http.get(`/api/v1/webhooks/${hook.id}`).set(admin.auth).expect(200);
    assert.equal(shown.body.previousSecretExpiresAt, body.previousSecretExpiresAt);
    assert.equal(shown.body.secret, undefined);

    await recordChange('role.create', 'role', newId());
    const got = await eventually(() => rx.at(path)[0], 'an event after rotation');
    const headers = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.ok(new Webhook(body.secret).verify(got.body, headers));
    assert.ok(new Webhook(hook.secret).verify(got.body, headers));
    const audit = await t.db.query<{ changes: string }[]>(
      "SELECT changes FROM audit_entries WHERE action = 'webhook.secret_rotate' AND target_id = ?",
      [hook.id],
    );
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]!.changes.includes(body.secret.slice(6)));
  });

  it('redelivers one delivery on request and audits it', async () => {
    const path = '/again';
    const hook = await createWebhook(t, admin.auth, { url: rx.url(path), events: ['role.delete'] });
    await recordChange('role.delete', 'role', newId());
    const d = await eventually(async () => {
      const [x] = await deliveries(hook.id);
      return x?.status === 'succeeded' ? x : undefined;
    }, 'the first delivery');
    const res = await t.http
      .post(`/api/v1/webhooks/${hook.id}/deliveries/${d.id}/retry`)
      .set(admin.auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    const again = await eventually(async () => {
      const [x] = await deliveries(hook.id);
      return x?.status === 'succeeded' && x.attemptCount === 2 ? x : undefined;
    }, 'the redelivery');
    assert.deepEqual(
      again.attempts.map((a) => a.succeeded),
      [true, true],
    );
    assert.equal(rx.at(path).length, 2);
    const missing = await t.http
      .post(`/api/v1/webhooks/${hook.id}/deliveries/${newId()}/retry`)
      .set(admin.auth);
    assert.equal(missing.status, 404);
  });

  it('holds waiting deliveries of a disabled endpoint until it is enabled again', async () => {
    const path = '/paused';
    rx.script(path, [500]);
    const hook = await createWebhook(t, admin.auth, { url: rx.url(path), events: ['role.create'] });
    await recordChange('role.create', 'role', newId());
    await eventually(async () => {
      const [d] = await deliveries(hook.id);
      return d && d.attemptCount === 1 ? d : undefined;
    }, 'the first attempt');
    await t.http
      .patch(`/api/v1/webhooks/${hook.id}`)
      .set(admin.auth)
      .send({ enabled: false })
      .expect(200);
    const [paused] = await deliveries(hook.id);
    const sentBefore = rx.at(path).length;
    const worker = t.get(WebhookWorker);
    worker.clock = () => new Date(Date.now() + 60 * 60 * 1000);
    try {
      // Due by the moved clock, but paused: a whole round sends nothing to it.
      await worker.runOnce();
      const [held] = await deliveries(hook.id);
      assert.equal(held?.status, 'pending');
      assert.equal(held?.attemptCount, paused?.attemptCount);
      assert.equal(rx.at(path).length, sentBefore);
      rx.script(path, [200]);
      await t.http
        .patch(`/api/v1/webhooks/${hook.id}`)
        .set(admin.auth)
        .send({ enabled: true })
        .expect(200);
      worker.wake();
      await eventually(async () => {
        const [d] = await deliveries(hook.id);
        return d?.status === 'succeeded' ? d : undefined;
      }, 'the resumed delivery');
    } finally {
      worker.clock = () => new Date();
    }
    assert.equal(rx.at(path).length, sentBefore + 1);
  });

  it('updates, lists and deletes endpoints, auditing each change', async () => {
    const hook = await createWebhook(t, admin.auth, { url: rx.url('/crud'), events: ['user.*'] });
    const patched = await t.http
      .patch(`/api/v1/webhooks/${hook.id}`)
      .set(admin.auth)
      .send({ events: ['user.update', 'user.update'], description: 'x', enabled: false });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.events, ['user.update']);
    assert.equal(patched.body.enabled, false);
    const cleared = await t.http
      .patch(`/api/v1/webhooks/${hook.id}`)
      .set(admin.auth)
      .send({ description: null });
    assert.equal(cleared.body.description, null);
    const list = await t.http.get('/api/v1/webhooks?limit=500').set(admin.auth).expect(200);
    assert.ok((list.body.items as { id: string }[]).some((w) => w.id === hook.id));
    await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(admin.auth).expect(204);
    await t.http.get(`/api/v1/webhooks/${hook.id}`).set(admin.auth).expect(404);
    const actions = await t.db.query<{ action: string }[]>(
      'SELECT action FROM audit_entries WHERE target_id = ? ORDER BY seq',
      [hook.id],
    );
    assert.deepEqual(
      actions.map((a) => a.action),
      ['webhook.create', 'webhook.update', 'webhook.update', 'webhook.delete'],
    );
  });

  describe('workspace admins', () => {
    let owner: MadeUser;
    let member: MadeUser;
    let a: { id: string; domain: string };
    let b: { id: string; domain: string };

    before(async () => {
      owner = await makeUser(t);
      member = await makeUser(t);
      a = await createWorkspace(t, owner.auth);
      b = await createWorkspace(t, admin.auth);
      await setWorkspaceRole(t, owner.auth, a.domain, member.user.id, 'user');
    });

    it('manage endpoints of their own workspace only, which get only its events', async () => {
      const path = '/ws-a';
      const hook = await createWebhook(t, owner.auth, {
        url: rx.url(path),
        events: ['group.*'],
        workspace: a.domain,
      });
      const other = await t.http
        .post('/api/v1/webhooks')
        .set(owner.auth)
        .send({ url: rx.url('/ws-b'), events: ['group.*'], workspace: b.domain });
      assert.equal(other.status, 404);
      const serverWide = await t.http
        .post('/api/v1/webhooks')
        .set(owner.auth)
        .send({ url: rx.url('/all'), events: ['*'] });
      assert.equal(serverWide.status, 403);
      const asMember = await t.http
        .post('/api/v1/webhooks')
        .set(member.auth)
        .send({ url: rx.url('/m'), events: ['*'], workspace: a.domain });
      assert.equal(asMember.status, 403);
      assert.equal((await t.http.get('/api/v1/webhooks').set(owner.auth)).status, 403);
      const mine = await t.http
        .get(`/api/v1/webhooks?workspace=${a.domain}`)
        .set(owner.auth)
        .expect(200);
      assert.deepEqual(
        (mine.body.items as { id: string }[]).map((w) => w.id),
        [hook.id],
      );
      await t.http.get(`/api/v1/webhooks/${hook.id}`).set(member.auth).expect(404);
      await t.http.delete(`/api/v1/webhooks/${hook.id}`).set(member.auth).expect(404);
      const adminHook = await createWebhook(t, admin.auth, { url: rx.url('/adm'), events: ['*'] });
      await t.http.get(`/api/v1/webhooks/${adminHook.id}`).set(owner.auth).expect(404);
      await t.http.get(`/api/v1/webhooks/${hook.id}/deliveries`).set(owner.auth).expect(200);
      const count = await t.db.query<{ n: number | string }[]>(
        'SELECT COUNT(*) AS n FROM webhook_endpoints WHERE url = ?',
        [rx.url('/ws-b')],
      );
      assert.equal(Number(count[0]!.n), 0);

      const inB = await createGroup(t, admin.auth, b.domain, []);
      const inA = await createGroup(t, owner.auth, a.domain, []);
      await eventually(
        () => rx.at(path).find((r) => parse(r).data.target.id === inA.id),
        "workspace A's group event",
      );
      await t.http
        .patch(`/api/v1/groups/${inA.id}`)
        .set(owner.auth)
        .send({ name: tag('Renamed') })
        .expect(200);
      await eventually(
        () => rx.at(path).find((r) => parse(r).type === 'group.update'),
        "workspace A's group update",
      );
      // B's group was created before A's: had it matched, it would have been delivered first.
      const seen = rx.at(path).map((r) => parse(r));
      assert.ok(seen.every((e) => e.data.workspaceId === a.id));
      assert.ok(!seen.some((e) => e.data.target.id === inB.id));
    });
  });

  describe('bad input: 400 naming the field, nothing written', () => {
    async function writes(): Promise<[number, number]> {
      const e = await t.db.query<{ n: number | string }[]>(
        'SELECT COUNT(*) AS n FROM webhook_endpoints',
      );
      const a = await t.db.query<{ n: number | string }[]>(
        "SELECT COUNT(*) AS n FROM audit_entries WHERE action LIKE 'webhook.%'",
      );
      return [Number(e[0]!.n), Number(a[0]!.n)];
    }

    const fieldOf = (body: { errors?: { field: string }[] }) => body.errors?.map((e) => e.field);

    it('on create', async () => {
      const before = await writes();
      const cases: [Record<string, unknown>, string][] = [
        [{ events: ['*'] }, 'url'],
        [{ url: rx.url('/x') }, 'events'],
        [{ url: rx.url('/x'), events: 'user.*' }, 'events'],
        [{ url: rx.url('/x'), events: [] }, 'events'],
        [{ url: rx.url('/x'), events: ['user.nope'] }, 'events[0]'],
        [{ url: rx.url('/x'), events: ['*', 'nothing.*'] }, 'events[1]'],
        [{ url: rx.url('/x'), events: ['User.Create!'] }, 'events[0]'],
        [{ url: 'ftp://127.0.0.1/x', events: ['*'] }, 'url'],
        [{ url: 'not a url', events: ['*'] }, 'url'],
        [{ url: 'http://u:p@127.0.0.1/x', events: ['*'] }, 'url'],
        [{ url: rx.url('/x'), events: ['*'], secret: 'mine' }, 'secret'],
        [{ url: rx.url('/x'), events: ['*'], description: 5 }, 'description'],
        [{ url: rx.url('/x'), events: ['*'], workspace: null }, 'workspace'],
      ];
      for (const [body, field] of cases) {
        const res = await t.http.post('/api/v1/webhooks').set(admin.auth).send(body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status}`);
        assert.ok(
          fieldOf(res.body)?.includes(field),
          `${JSON.stringify(body)} names ${field}: ${JSON.stringify(res.body)}`,
        );
      }
      assert.deepEqual(await writes(), before);
    });

    it('on every other route', async () => {
      const hook = await createWebhook(t, admin.auth, { url: rx.url('/bad'), events: ['*'] });
      const before = await writes();
      const cases: [() => Promise<{ status: number; body: unknown }>, string][] = [
        [() => t.http.get('/api/v1/webhooks/nope').set(admin.auth), 'id'],
        [() => t.http.get('/api/v1/webhooks?limit=0').set(admin.auth), 'limit'],
        [() => t.http.get('/api/v1/webhooks?cursor=%%%').set(admin.auth), 'cursor'],
        [() => t.http.patch('/api/v1/webhooks/nope').set(admin.auth).send({}), 'id'],
        [
          () => t.http.patch(`/api/v1/webhooks/${hook.id}`).set(admin.auth).send({ url: 'x' }),
          'url',
        ],
        [
          () =>
            t.http
              .patch(`/api/v1/webhooks/${hook.id}`)
              .set(admin.auth)
              .send({ events: ['x.*'] }),
          'events[0]',
        ],
        [
          () =>
            t.http.patch(`/api/v1/webhooks/${hook.id}`).set(admin.auth).send({ enabled: 'yes' }),
          'enabled',
        ],
        [
          () =>
            t.http
              .patch(`/api/v1/webhooks/${hook.id}`)
              .set(admin.auth)
              .send({ workspace: 'elsewhere' }),
          'workspace',
        ],
        [() => t.http.delete('/api/v1/webhooks/nope').set(admin.auth), 'id'],
        [() => t.http.post('/api/v1/webhooks/nope/secret').set(admin.auth), 'id'],
        [() => t.http.get('/api/v1/webhooks/nope/deliveries').set(admin.auth), 'id'],
        [
          () => t.http.get(`/api/v1/webhooks/${hook.id}/deliveries?status=lost`).set(admin.auth),
          'status',
        ],
        [
          () => t.http.post(`/api/v1/webhooks/${hook.id}/deliveries/nope/retry`).set(admin.auth),
          'deliveryId',
        ],
      ];
      for (const [call, field] of cases) {
        const res = await call();
        assert.equal(res.status, 400, `${field}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.ok(
          fieldOf(res.body as { errors?: { field: string }[] })?.includes(field),
          `names ${field}: ${JSON.stringify(res.body)}`,
        );
      }
      assert.deepEqual(await writes(), before);
    });
  });
});
