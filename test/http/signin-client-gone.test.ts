import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PasswordService } from '#src/crypto/password.service.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { makeUser } from '../factories/users.js';
import { API, login, userRow } from '../factories/auth.js';
import { eventually } from '../factories/webhooks.js';

describe('sign-ins whose clients went away before their password was checked', () => {
  let t: TestApp;
  let origin: string;
  before(async () => {
    // One bcrypt thread and a slow cost, so that sign-ins wait in the queue behind other work.
    ({ t, origin } = await createListeningTestApp({
      BCRYPT_CONCURRENCY: '1',
      BCRYPT_COST: '13',
      LOCKOUT_THRESHOLD: '1000',
    }));
  });
  after(async () => t.close());

  it('drops their queued comparisons, records nothing of them, and counts them in /metrics', async () => {
    const u = await makeUser(t, { signIn: false });
    const passwords = t.app.get(PasswordService);
    // Three hashes keep the only thread busy (one running, two queued) for seconds: the sign-ins
    // below queue behind them, and at least one hash is still ahead of them when their clients go.
    let hashesLeft = 3;
    const busy = ['keeps the thread busy', 'and after that', 'and after that too'].map((pw) =>
      passwords.hash(pw).then(() => hashesLeft--),
    );
    const jobs = (): number => passwords.poolStats().running + passwords.poolStats().queued;
    await eventually(() => (jobs() === 3 ? true : undefined), 'busy thread');

    const clients = [0, 1, 2].map(() => new AbortController());
    const calls = clients.map((c) =>
      fetch(`${origin}${API}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // A wrong password: a comparison that ran anyway would count a failure on the account.
        body: JSON.stringify({ username: u.email, password: 'not the password, long enough' }),
        signal: c.signal,
      }).then(
        (res) => `answered ${res.status}`,
        (err: unknown) => (err as Error).name,
      ),
    );
    // Every sign-in is in the pool (behind the hashes left, first in, first out).
    await eventually(() => (jobs() === hashesLeft + 3 ? true : undefined), 'sign-ins queued');
    assert.ok(hashesLeft >= 2, `hashes still ahead of the sign-ins: ${hashesLeft}`);
    for (const c of clients) c.abort();
    assert.deepEqual(await Promise.all(calls), ['AbortError', 'AbortError', 'AbortError']);

    await eventually(() => (passwords.poolStats().dropped === 3 ? true : undefined), 'dropped');
    await Promise.all(busy);
    assert.deepEqual(passwords.poolStats(), { running: 0, queued: 0, dropped: 3 });

    // Nothing was checked, so nothing was counted against the account.
    const row = await userRow(t, u.user.id);
    assert.equal(row.failedLogins, 0);
    assert.equal(row.lockedUntil, null);

    const metrics = await t.http.get('/metrics').expect(200);
    assert.match(metrics.text, /^gatehouse_bcrypt_dropped_total 3$/m);
    assert.match(metrics.text, /^gatehouse_bcrypt_jobs\{state="queued"\} 0$/m);
    assert.match(metrics.text, /^gatehouse_bcrypt_jobs\{state="running"\} 0$/m);

    // A client that stays gets its answer as before.
    const res = await login(t, u.email, u.password);
    assert.equal(res.status, 200);
    assert.equal(passwords.poolStats().dropped, 3);
  });
});
