import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { affinityOf, coreSplit, coresOf, pinnedApart, setAffinity } from '../../bench/lib/cores.js';

describe('the bench’s split of the cores between server and load generator', () => {
  it('reads taskset lists', () => {
    assert.deepEqual(coresOf('0'), [0]);
    assert.deepEqual(coresOf('0-3,6'), [0, 1, 2, 3, 6]);
    assert.deepEqual(coresOf('2,3'), [2, 3]);
    assert.deepEqual(coresOf('zero'), [], 'a list it cannot read is no cores');
  });

  it('gives the server the first half and the load generator the rest', () => {
    assert.equal(coreSplit([0]), null, 'one core: nothing to split');
    assert.equal(coreSplit([]), null);
    assert.deepEqual(coreSplit([0, 1]), { server: '0', runner: '1' });
    assert.deepEqual(coreSplit([0, 1, 2]), { server: '0', runner: '1,2' });
    assert.deepEqual(coreSplit([4, 5, 6, 7]), { server: '4,5', runner: '6,7' });
  });

  it('pins a server and this process apart during the work, then gives both their cores back', async (t) => {
    const mine = affinityOf(process.pid);
    const split = coreSplit();
    if (mine === null || split === null) {
      t.skip('needs Linux, taskset and two cores');
      return;
    }
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {
      stdio: 'ignore',
    });
    try {
      const pid = child.pid;
      assert.ok(pid !== undefined);
      const before = affinityOf(pid);
      const { result, pinned } = await pinnedApart(
        pid,
        () => Promise.resolve([affinityOf(pid), affinityOf(process.pid)]),
        split,
      );
      assert.equal(pinned, true);
      assert.deepEqual(
        result.map((list) => coresOf(list ?? '')),
        [coresOf(split.server), coresOf(split.runner)],
        'server and load generator on their own halves during the work',
      );
      assert.equal(affinityOf(pid), before, 'the server has its cores back');
      assert.equal(affinityOf(process.pid), mine, 'this process has its cores back');

      // A process that is gone cannot be pinned: the work still runs, said to be unpinned.
      const gone = await pinnedApart(2 ** 22 + 1, () => Promise.resolve('ran'), split);
      assert.deepEqual(gone, { result: 'ran', pinned: false });
      assert.equal(affinityOf(process.pid), mine);
      assert.equal(setAffinity(2 ** 22 + 1, split.server), false);
    } finally {
      child.kill();
      await once(child, 'exit');
    }
  });
});
