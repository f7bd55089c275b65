import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { callgrindTotal, countsOfDump } from '../../bench/lib/callgrind.js';

/** The head of a callgrind output file as callgrind 3.19 writes it, with a given total. */
function outputWith(total: number | null): string {
  return [
    '# callgrind format',
    'version: 1',
    'creator: callgrind-3.19.0',
    'cmd:  /usr/bin/node dist/bench/servers/hello-app.js',
    'part: 1',
    'desc: Trigger: Client Request: dump',
    'events: Ir',
    ...(total === null ? [] : [`summary: ${total}`]),
    'fl=(1) ???',
    'fn=(1) 0x0000000000108330',
    '0 3',
    ...(total === null ? [] : [`totals: ${total}`]),
    '',
  ].join('\n');
}

describe('the instruction counts of a callgrind run', () => {
  it('reads a file’s total, and nothing from a file without one', () => {
    assert.equal(callgrindTotal(outputWith(281_418_223)), 281_418_223);
    assert.equal(callgrindTotal(outputWith(null)), null);
  });

  it('gives one dump’s counts by thread, main thread first, leaving out other dumps and idle threads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callgrind-test-'));
    const out = join(dir, 'callgrind.out');
    writeFileSync(`${out}.1-01`, outputWith(300));
    writeFileSync(`${out}.1-03`, outputWith(40));
    writeFileSync(`${out}.1-02`, outputWith(0));
    writeFileSync(`${out}.1-10`, outputWith(7));
    writeFileSync(`${out}-01`, outputWith(9_000)); // the start-up's, at exit: another dump
    writeFileSync(`${out}.2-01`, outputWith(55));
    assert.deepEqual(countsOfDump(out), [
      { thread: 1, instructions: 300 },
      { thread: 3, instructions: 40 },
      { thread: 10, instructions: 7 },
    ]);
    assert.deepEqual(countsOfDump(out, 2), [{ thread: 1, instructions: 55 }]);

    const together = join(mkdtempSync(join(tmpdir(), 'callgrind-test-')), 'callgrind.out');
    writeFileSync(`${together}.1`, outputWith(1234));
    assert.deepEqual(countsOfDump(together), [{ thread: 0, instructions: 1234 }]);
  });
});
