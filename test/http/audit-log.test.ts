import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { API, login } from '../factories/auth.js';
import { giveRole, makeRole } from '../factories/roles.js';
import { createWorkspace } from '../factories/workspaces.js';

interface Entry {
  seq: string;
  at: string;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  hash: string;
  prevHash: string;
}

describe('GET /audit, /audit/export, /audit/verify', () => {
  let t: TestApp;
  let admin: MadeUser;
  let plain: MadeUser;
  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin' });
    plain = await makeUser(t);
  });
  after(async () => t.close());

  async function allRows(): Promise<AuditEntry[]> {
    const rows = await t.db.getRepository(AuditEntry).find();
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
  }

  /** Appends `n` entries straight through the service (setup for paging and streaming). */
  async function record(n: number, action: string, targetId: string): Promise<void> {
    const audit = t.get(AuditService);
    await t.get(Database).transaction(async (tx) => {
      for (let i = 0; i < n; i += 1)
        await audit.record(tx, {
          actorId: null,
          action,
          targetType: 'test',
          targetId,
          changes: { i },
        });
    });
  }

  it('needs audit.read: 401 signed out, 403 for a plain user, 200 through a named role', async () => {
    for (const path of ['/audit', '/audit/export', '/audit/verify']) {
      assertProblem(await t.http.get(`${API}${path}`), 401);
      const res = await t.http.get(`${API}${path}`).set(plain.auth);
      assertProblem(res, 403);
      assert.match(res.body.detail, /audit\.read/);
    }
    const auditor = await makeUser(t, { signIn: false });
    await giveRole(t, auditor.user.id, await makeRole(t, { permissions: ['audit.read'] }));
    const signedIn = await login(t, auditor.email, auditor.password);
    const auth = { Authorization: `Bearer ${signedIn.body.token as string}` };
    const res = await t.http.get(`${API}/audit`).set(auth);
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.body.items));
    const ok = await t.http.get(`${API}/audit/verify`).set(auth);
    assert.equal(ok.status, 200);
  });

  it('lists newest first, keyset-paged, and filters by actor, target, action and time', async () => {
    const ws1 = await createWorkspace(t, admin.auth);
    const ws2 = await createWorkspace(t, plain.auth);
    // Newest first, all of them, in pages of 3.
    const seen: Entry[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: Entry[]; nextCursor: string | null } } =
        await t.http
          .get(`${API}/audit`)
          .query({ limit: 3, ...(cursor ? { cursor } : {}) })
          .set(admin.auth);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 3);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    const rows = await allRows();
    assert.deepEqual(
      seen.map((e) => e.seq),
      rows.map((r) => String(r.seq)).reverse(),
    );
    assert.equal(seen[0]?.hash, rows[rows.length - 1]?.hash);

    const byActor = await t.http
      .get(`${API}/audit`)
      .query({ actorId: plain.user.id })
      .set(admin.auth);
    assert.equal(byActor.status, 200);
    assert.ok(byActor.body.items.length >= 1);
    assert.ok((byActor.body.items as Entry[]).every((e) => e.actorId === plain.user.id));
    assert.ok((byActor.body.items as Entry[]).some((e) => e.targetId === ws2.id));

    const byTarget = await t.http
      .get(`${API}/audit`)
      .query({ targetType: 'workspace', targetId: ws1.id })
      .set(admin.auth);
    const expected = rows.filter((r) => r.targetType === 'workspace' && r.targetId === ws1.id);
    assert.ok(expected.length >= 1);
    assert.deepEqual(
      (byTarget.body.items as Entry[]).map((e) => e.seq),
      expected.map((r) => String(r.seq)).reverse(),
    );

    const action = expected[0]?.action ?? '';
    const byAction = await t.http.get(`${API}/audit`).query({ action }).set(admin.auth);
    assert.deepEqual(
      (byAction.body.items as Entry[]).map((e) => e.seq),
      rows
        .filter((r) => r.action === action)
        .map((r) => String(r.seq))
        .reverse(),
    );

    // A window of time: from the first workspace entry's time on, and nothing after the future.
    const since = expected[0]?.at.toISOString() ?? '';
    const inWindow = await t.http
      .get(`${API}/audit`)
      .query({ since, until: '2999-01-01T00:00:00Z', limit: 500 })
      .set(admin.auth);
    assert.deepEqual(
      (inWindow.body.items as Entry[]).map((e) => e.seq),
      rows
        .filter((r) => r.at.getTime() >= (expected[0]?.at.getTime() ?? 0))
        .map((r) => String(r.seq))
        .reverse(),
    );
    const before = await t.http
      .get(`${API}/audit`)
      .query({ until: '2000-01-01T00:00:00Z' })
      .set(admin.auth);
    assert.deepEqual(before.body, { items: [], nextCursor: null });
  });

  it('refuses bad filters with a 400 naming the field', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ actorId: 'not an id!' }, 'actorId'],
      [{ since: 'yesterday' }, 'since'],
      [{ until: '2026-13-40T00:00:00Z' }, 'until'],
      [{ since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'until'],
      [{ targetType: 'User Table' }, 'targetType'],
      [{ action: 'x'.repeat(65) }, 'action'],
      [{ limit: '501' }, 'limit'],
      [{ limit: '0' }, 'limit'],
      [{ cursor: 'garbage' }, 'cursor'],
      [{ unknown: '1' }, 'unknown'],
    ];
    for (const [query, field] of cases) {
      const res = await t.http.get(`${API}/audit`).query(query).set(admin.auth);
      assertProblem(res, 400);
      assert.ok(
        (res.body.errors as { field: string }[]).some((e) => e.field === field),
        `${JSON.stringify(query)} → ${JSON.stringify(res.body)}`,
      );
    }
    const exp = await t.http.get(`${API}/audit/export`).query({ since: 'soon' }).set(admin.auth);
    assertProblem(exp, 400);
    assert.equal(exp.body.errors[0].field, 'since');
  });

  it('exports matching entries as streamed NDJSON, oldest first, with their chain hashes', async () => {
    // More than one batch of the export (500), so the keyset walk between batches is exercised.
    await record(1203, 'test.bulk', 'bulk-1');
    await record(2, 'test.other', 'other-1');
    const res = await t.http
      .get(`${API}/audit/export`)
      .query({ targetType: 'test', targetId: 'bulk-1' })
      .set(admin.auth)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    assert.equal(res.headers['content-length'], undefined, 'streamed, not buffered whole');
    const text = res.body as string;
    assert.ok(text.endsWith('\n'));
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Entry);
    assert.equal(lines.length, 1203);
    const rows = (await allRows()).filter((r) => r.targetId === 'bulk-1');
    assert.deepEqual(
      lines.map((e) => [e.seq, e.hash, e.prevHash, e.action]),
      rows.map((r) => [String(r.seq), r.hash, r.prevHash, r.action]),
    );
    for (let i = 1; i < lines.length; i += 1)
      assert.ok(BigInt(lines[i]?.seq ?? 0) > BigInt(lines[i - 1]?.seq ?? 0), 'oldest first');

    const all = await t.http.get(`${API}/audit/export`).set(admin.auth).buffer(true);
    const count = String(all.text ?? all.body)
      .trimEnd()
      .split('\n').length;
    assert.equal(count, (await allRows()).length);
  });

  it('verifies the chain, and after a row is tampered with says where it breaks', async () => {
    const ok = await t.http.get(`${API}/audit/verify`).set(admin.auth);
    assert.equal(ok.status, 200);
    const rows = await allRows();
    const last = rows[rows.length - 1];
    assert.deepEqual(ok.body, {
      ok: true,
      checked: rows.length,
      head: { seq: String(last?.seq), hash: last?.hash },
    });

    const victim = rows[Math.floor(rows.length / 2)];
    assert.ok(victim);
    await t.db
      .getRepository(AuditEntry)
      .update({ seq: victim.seq }, { action: 'user.nothing-to-see' });
    const bad = await t.http.get(`${API}/audit/verify`).set(admin.auth);
    assert.equal(bad.status, 200);
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.firstBadSeq, String(victim.seq));
    assert.equal(bad.body.checked, rows.indexOf(victim));
    assert.equal(typeof bad.body.reason, 'string');
  });
});
