import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Database, TRANSACTION_ATTEMPTS } from '#src/database/database.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql } from '../support/database.js';
import { makeUser, PASSWORD, uniqueEmail } from '../factories/users.js';
import { API } from '../factories/auth.js';

const skip = isMysql()
  ? false
  : 'MySQL only: SQLite runs one transaction at a time, so it never deadlocks';
if (skip) console.log(`# transaction-retry skipped: ${skip}`);

/** Resolves for everyone once `n` callers are waiting. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === n) open();
    return opened;
  };
}

describe(`${Database.name}.transaction on deadlocks`, { skip, timeout: 120_000 }, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('runs the deadlock victim again as a whole, and both units of work commit', async () => {
    const a = (await makeUser(t, { signIn: false })).user.id;
    const b = (await makeUser(t, { signIn: false })).user.id;
    const db = t.get(Database);
    const attempts = { ab: 0, ba: 0 };
    const bothHoldTheirFirstRow = barrier(2);
    const lockInOrder = (key: 'ab' | 'ba', first: string, second: string) =>
      db.transaction(async (tx) => {
        attempts[key] += 1;
        await tx.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [first]);
        if (attempts[key] === 1) await bothHoldTheirFirstRow();
        // Each now waits for the other's row: InnoDB picks a victim (errno 1213).
        await tx.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [second]);
        await tx.query('UPDATE users SET full_name = ? WHERE id = ?', [key, first]);
        return key;
      });
    const done = await Promise.all([lockInOrder('ab', a, b), lockInOrder('ba', b, a)]);
    assert.deepEqual(done, ['ab', 'ba']);
    assert.equal(attempts.ab + attempts.ba, 3, 'exactly one of the two ran a second time');
    const rows = await t.db.query<{ id: string; n: string }[]>(
      'SELECT id, full_name AS n FROM users WHERE id IN (?, ?)',
      [a, b],
    );
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.n])), { [a]: 'ab', [b]: 'ba' });
  });

  it('stops after a bounded number of attempts and lets the error through', async () => {
    let runs = 0;
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock'), {
      errno: 1213,
    });
    await assert.rejects(
      t.get(Database).transaction(async () => {
        runs += 1;
        throw deadlock;
      }),
      (err) => err === deadlock,
    );
    assert.equal(runs, TRANSACTION_ATTEMPTS);
  });

  it('answers concurrent signups with 201, never a 500', async () => {
    const emails = Array.from({ length: 8 }, () => uniqueEmail('concurrent'));
    const res = await Promise.all(
      emails.map((email) => t.http.post(`${API}/auth/signup`).send({ email, password: PASSWORD })),
    );
    assert.deepEqual(
      res.map((r) => r.status),
      emails.map(() => 201),
    );
  });
});
