import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BcryptJobDropped, BcryptPool } from '#src/crypto/bcrypt-pool.js';

/** Nice values of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  });
}

describe('BcryptPool', () => {
  it('hashes and compares on worker threads at a lower priority, the main thread untouched', async () => {
    const pool = new BcryptPool(2, 7);
    try {
      const hash = await pool.hash('correct horse', 4);
      assert.match(hash, /^\$2[aby]\$04\$/);
      const [yes, no] = await Promise.all([
        pool.compare('correct horse', hash),
        pool.compare('wrong horse', hash),
      ]);
      assert.equal(yes, true);
      assert.equal(no, false);
      if (process.platform === 'linux') {
        const nices = threadNices();
        assert.equal(nices.filter((n) => n === 7).length, 2, `thread nices: ${nices.join(',')}`);
        assert.equal(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[16], '0');
      }
    } finally {
      await pool.close();
    }
  });

  it('runs at most `size` at once, the rest in arrival order, and answers every one', async () => {
    const pool = new BcryptPool(1, 0);
    try {
      const hash = await pool.hash('pw', 4);
      const order: number[] = [];
      await Promise.all(
        [0, 1, 2, 3, 4].map((i) =>
          pool.compare(i % 2 ? 'pw' : 'nope', hash).then((ok) => {
            order.push(i);
            assert.equal(ok, i % 2 === 1);
          }),
        ),
      );
      assert.deepEqual(order, [0, 1, 2, 3, 4]);
    } finally {
      await pool.close();
    }
  });

  it('refuses work after close; a malformed hash never matches', async () => {
    const pool = new BcryptPool(1, 0);
    assert.equal(await pool.compare('pw', 'not a hash'), false);
    assert.equal(await pool.compare('pw', await pool.hash('pw', 4)), true);
    await pool.close();
    await assert.rejects(pool.hash('pw', 4), /closed/);
  });

  it('drops a queued job whose caller gave up, never a running one, and counts it', async () => {
    const pool = new BcryptPool(1, 0);
    try {
      const hash = await pool.hash('pw', 10);
      const first = new AbortController();
      const second = new AbortController();
      const running = pool.compare('pw', hash, first.signal);
      const queued = pool.compare('pw', hash, second.signal);
      const last = pool.compare('nope', hash);
      assert.deepEqual(pool.stats(), { running: 1, queued: 2, dropped: 0 });
      first.abort(); // already on a thread: it runs to the end
      second.abort(); // still waiting: dropped at once
      await assert.rejects(queued, BcryptJobDropped);
      assert.deepEqual(pool.stats(), { running: 1, queued: 1, dropped: 1 });
      assert.equal(await running, true);
      assert.equal(await last, false);
      // A caller that has already given up does not queue anything.
      await assert.rejects(pool.compare('pw', hash, AbortSignal.abort()), BcryptJobDropped);
      assert.deepEqual(pool.stats(), { running: 0, queued: 0, dropped: 2 });
    } finally {
      await pool.close();
    }
  });
});
