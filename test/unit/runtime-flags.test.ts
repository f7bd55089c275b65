import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const FLAGS_MODULE = fileURLToPath(new URL('../../src/runtime-flags.js', import.meta.url));

// Objects from one allocation site that all survive: V8's pretenuring takes note of such a site.
const WORKLOAD = `const keep = [];
function make(i) { return { i, a: [i], s: 'x' + i }; }
for (let i = 0; i < 3e6; i++) keep.push(make(i));`;

/** The pretenuring decisions V8 traces for the workload, with `preload` imported first or not. */
function pretenuringLines(preload: boolean): number {
  const args = ['--trace-pretenuring', '--trace-pretenuring-statistics'];
  if (preload) args.push('--import', FLAGS_MODULE);
  const out = execFileSync(process.execPath, [...args, '-e', WORKLOAD], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return out.split('\n').filter((l) => l.includes('pretenuring: AllocationSite')).length;
}

describe('runtime flags (src/runtime-flags.ts)', () => {
  it('turns allocation-site pretenuring off in a process started without the flag', () => {
    // Without it, V8 weighs the workload's sites (so the check below can tell).
    assert.ok(pretenuringLines(false) > 0, 'V8 traced no pretenuring decision without the module');
    assert.equal(pretenuringLines(true), 0);
  });
});
