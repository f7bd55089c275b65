import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How production starts a Gatehouse process, read from package.json's `start:prod` script (its one
 * place for process settings), for the bench tools that start one.
 */

/** The words of package.json's `start:prod` script, in the project at `root`. */
function startProdWords(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return (pkg.scripts['start:prod'] ?? '').split(' ').filter(Boolean);
}

/**
 * The V8 flags production runs Gatehouse with: those of `start:prod`, or `override` (a
 * space-separated list, e.g. BENCH_NODE_FLAGS) to try others.
 */
export function gatehouseNodeFlags(root: string, override?: string): string[] {
  if (override !== undefined) return override.split(' ').filter(Boolean);
  return startProdWords(root).filter((w) => w.startsWith('--'));
}

/** The environment `start:prod` sets before `node` (MALLOC_ARENA_MAX). */
export function gatehouseProcessEnv(root: string): Record<string, string> {
  const words = startProdWords(root);
  const node = words.indexOf('node');
  const assignments = words.slice(0, node < 0 ? 0 : node);
  return Object.fromEntries(
    assignments
      .map((w) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}
