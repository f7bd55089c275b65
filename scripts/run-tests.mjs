// Runs every compiled test file with Node's own test runner, on the database named by
// TEST_DATABASE_URL (default: in-memory SQLite). Each file is its own process; MySQL tests get a
// fresh database per application, so files can run side by side.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    // test/cluster starts a Galera cluster of its own: `npm run test:cluster`, not `npm test`.
    if (statSync(p).isDirectory()) {
      if (p !== join('dist', 'test', 'cluster')) out.push(...find(p));
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find('dist/test')
  .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const db = process.env.TEST_DATABASE_URL ?? 'sqlite::memory:';
console.log(`Running ${files.length} test files on ${db.replace(/\/\/[^@]*@/, '//')}`);
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const res = spawnSync(
  process.execPath,
  [
    // Ends a file's process once its tests are done even if a handle is left open (see there).
    `--import=${new URL('./exit-when-done.mjs', import.meta.url).href}`,
    '--test',
    '--test-timeout=300000',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);
