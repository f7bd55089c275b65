// Builds the console (type-check, then vite build into dist/console) unless dist/console is newer
// than every source it is built from. `npm run build` always builds (FORCE=1); `npm test` uses the
// shortcut so running a few test files stays quick.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const built = existsSync('dist/console/index.html')
  ? statSync('dist/console/index.html').mtimeMs
  : 0;
const sources = Math.max(
  newest('console'),
  newest('clients/typescript'),
  newest('package-lock.json'),
  newest('scripts/build-console.mjs'),
);
if (process.env.FORCE !== '1' && built > sources) {
  console.log('console: dist/console is up to date');
  process.exit(0);
}
for (const [cmd, args] of [
  ['node_modules/.bin/tsc', ['-p', 'console/tsconfig.json']],
  ['node_modules/.bin/vite', ['build', '--config', 'console/vite.config.ts', '--logLevel', 'warn']],
]) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log('console: built into dist/console');
