import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The instruction count of one callgrind output file (its `totals:` or `summary:` line). */
export function callgrindTotal(text: string): number | null {
  const m = /^(?:totals|summary):\s+(\d+)/m.exec(text);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/**
 * The counts of one dump of a run made with `--separate-threads=yes`, by thread: callgrind writes
 * `<out>.<dump>-<thread>` (thread 01 is the main thread, the event loop's), or `<out>.<dump>` with
 * threads together. Threads that ran nothing in the dump are left out.
 */
export function countsOfDump(out: string, dump = 1): { thread: number; instructions: number }[] {
  const prefix = `${basename(out)}.${dump}`;
  const counts: { thread: number; instructions: number }[] = [];
  for (const name of readdirSync(dirname(out))) {
    if (name !== prefix && !name.startsWith(`${prefix}-`)) continue;
    const n = callgrindTotal(readFileSync(join(dirname(out), name), 'utf8'));
    const thread = name === prefix ? 0 : Number(name.slice(prefix.length + 1));
    if (n !== null && n > 0) counts.push({ thread, instructions: n });
  }
  return counts.sort((a, b) => a.thread - b.thread);
}
