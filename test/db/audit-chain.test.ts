import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { AuditService, entryHash } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser } from '../factories/users.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('audit hash chain', () => {
  let t: TestApp;
  let audit: AuditService;
  const entries = () => t.db.getRepository(AuditEntry);
  const entry = (seq: string) => entries().findOneByOrFail({ seq });

  /** Runs a tampering on the raw table, checks verification names the entry, then restores. */
  async function tamper(
    seq: string,
    change: (e: AuditEntry) => Promise<void>,
    expected: { brokenAt: string; reason: RegExp },
  ): Promise<void> {
    const original = await entry(seq);
    await change(original);
    const result = await audit.verifyChain();
    assert.equal(result.ok, false);
    assert.equal(result.brokenAt, expected.brokenAt);
    assert.match(result.reason ?? '', expected.reason);
    // Put the row back exactly as it was.
    await entries().delete({ seq });
    await entries().insert(original);
    assert.equal((await audit.verifyChain()).ok, true);
  }

  before(async () => {
    t = await createTestApp();
    audit = t.get(AuditService);
    for (let i = 0; i < 5; i++) {
      await t.get(Database).transaction((tx) =>
        audit.record(tx, {
          actorId: null,
          action: 'test.append',
          targetType: 'test',
          targetId: `t-${i}`,
          changes: { n: { from: i, to: i + 1 } },
        }),
      );
    }
  });
  after(async () => t.close());

  const middle = async () => {
    const all = await entries().find({ order: { seq: 'ASC' } });
    assert.ok(all.length >= 5);
    const m = all[Math.floor(all.length / 2)]!;
    // bigint columns come back as numbers on SQLite and strings on MySQL.
    return { ...m, seq: String(m.seq) };
  };
  const next = (seq: string) => String(BigInt(seq) + 1n);

  it('verifies an untouched chain', async () => {
    const result = await audit.verifyChain();
    assert.deepEqual(result, {
      ok: true,
      checked: await entries().count(),
      brokenAt: null,
      reason: null,
    });
  });

  it('detects changed text', async () => {
    const m = await middle();
    await tamper(
      m.seq,
      () => t.db.query('UPDATE audit_entries SET changes = ? WHERE seq = ?', ['{"n":0}', m.seq]),
      {
        brokenAt: m.seq,
        reason: /changes were altered/,
      },
    );
  });

  it('detects changed text whose digest was recomputed', async () => {
    const m = await middle();
    const text = '{"n":"forged"}';
    await tamper(
      m.seq,
      () =>
        t.db.query('UPDATE audit_entries SET changes = ?, changes_digest = ? WHERE seq = ?', [
          text,
          sha256(text),
          m.seq,
        ]),
      { brokenAt: m.seq, reason: /entry was altered/ },
    );
  });

  it('detects a changed actor or hash', async () => {
    const m = await middle();
    await tamper(
      m.seq,
      () =>
        t.db.query('UPDATE audit_entries SET actor_id = ? WHERE seq = ?', ['someone-else', m.seq]),
      {
        brokenAt: m.seq,
        reason: /entry was altered/,
      },
    );
    await tamper(
      m.seq,
      () => t.db.query('UPDATE audit_entries SET hash = ? WHERE seq = ?', ['f'.repeat(64), m.seq]),
      {
        brokenAt: m.seq,
        reason: /entry was altered/,
      },
    );
  });

  it('detects an entry rewritten with a consistent hash at the link to the next one', async () => {
    const m = await middle();
    await tamper(
      m.seq,
      async (e) => {
        const text = '{"n":"rewritten"}';
        const forged = { ...e, seq: String(e.seq), changes: text, changesDigest: sha256(text) };
        await t.db.query(
          'UPDATE audit_entries SET changes = ?, changes_digest = ?, hash = ? WHERE seq = ?',
          [text, forged.changesDigest, entryHash(forged), m.seq],
        );
      },
      { brokenAt: next(m.seq), reason: /link to the previous entry/ },
    );
  });

  it('detects a deleted entry', async () => {
    const m = await middle();
    await tamper(m.seq, () => t.db.query('DELETE FROM audit_entries WHERE seq = ?', [m.seq]), {
      brokenAt: next(m.seq),
      reason: /sequence number is missing/,
    });
  });

  it('detects the newest entries being removed (the chain must reach its recorded head)', async () => {
    const all = await entries().find({ order: { seq: 'ASC' } });
    const last = all[all.length - 1]!;
    const lastSeq = String(last.seq);
    await tamper(lastSeq, () => t.db.query('DELETE FROM audit_entries WHERE seq = ?', [lastSeq]), {
      brokenAt: lastSeq,
      reason: /newest entries were removed/,
    });
  });

  it('detects a rewrite hidden by marking the entry redacted', async () => {
    const m = await middle();
    await tamper(
      m.seq,
      async () => {
        await entries().update(
          { seq: m.seq },
          { changes: '{"n":"hidden"}', redactedAt: new Date() },
        );
      },
      { brokenAt: m.seq, reason: /redacted entry was altered/ },
    );
    await tamper(
      m.seq,
      async () => {
        await entries().update(
          { seq: m.seq },
          { changes: '{"redacted":true}', redactedAt: new Date() },
        );
      },
      { brokenAt: m.seq, reason: /redaction has no record/ },
    );
  });

  it("still verifies after a deleted user's entries are redacted", async () => {
    const admin = await makeUser(t, { role: 'admin' });
    const u = await makeUser(t, { fullName: 'To Be Forgotten' });
    await t.http
      .patch('/api/v1/users/me')
      .set(u.auth)
      .send({ data: { city: 'Springfield' } })
      .expect(200);
    await t.http.delete(`/api/v1/users/${u.user.id}`).set(admin.auth).expect(204);
    const redacted = await entries().findBy({ targetId: u.user.id });
    assert.ok(redacted.filter((e) => e.redactedAt !== null).length >= 2);
    assert.doesNotMatch(redacted.map((e) => e.changes).join(), /Forgotten|Springfield|@example/);
    const result = await audit.verifyChain();
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.checked, await entries().count());
  });
});
