import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BcryptPool } from '#src/crypto/bcrypt-pool.js';

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
});
