import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The house rules of src/ (docs/architecture.md): every module imports only from modules on lower
 * floors, and no file imports itself back through others. Read from the sources, so the rule holds
 * for type-only imports too.
 */
const FLOORS: Record<string, number> = {
  config: 0,
  database: 1,
  common: 2,
  kernel: 3,
  crypto: 4,
  audit: 4,
  mail: 4,
  metrics: 4,
  health: 4,
  users: 5,
  auth: 6,
  tenancy: 7,
  credentials: 8,
  'user-admin': 9,
  provider: 10,
  scim: 10,
  webhooks: 10,
  pages: 11,
  console: 11,
  app: 12,
  cli: 13,
};

const SRC = join(process.cwd(), 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

/** `tenancy/access/access.service.ts` → `tenancy`; files at the root of src/ are the app. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 1 ? 'app' : (parts[0] ?? 'app');
}

/** Every file of src/ (relative, `.ts`) with the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of sources(SRC)) {
    const text = readFileSync(path, 'utf8');
    const targets = [
      ...text.matchAll(/from\s+'#src\/([^']+)\.js'|import\('#src\/([^']+)\.js'\)/g),
    ].map((m) => `${m[1] ?? m[2]}.ts`);
    const relativeImports = [...text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(relativeImports, [], `${relative(SRC, path)} imports by relative path`);
    graph.set(relative(SRC, path), targets);
  }
  return graph;
}

/** Import circles (strongly connected components of more than one file, or a self-import). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      for (;;) {
        const w = stack.pop();
        if (w === undefined) break;
        on.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('the layout of src/', () => {
  const graph = importGraph();

  it('puts every module on a floor', () => {
    const unknown = [...new Set([...graph.keys()].map(moduleOf))].filter((m) => !(m in FLOORS));
    assert.deepEqual(unknown, []);
  });

  it('imports only files that exist', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => !graph.has(t)).map((t) => `${file} -> ${t}`),
    );
    assert.deepEqual(missing, []);
  });

  it('has no import running up a floor or across a floor', () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((t) => {
          const from = moduleOf(file);
          const to = moduleOf(t);
          return from !== to && (FLOORS[to] ?? 99) >= (FLOORS[from] ?? -1);
        })
        .map((t) => `${file} -> ${t}`),
    );
    assert.deepEqual(upward, []);
  });

  it('has no import circle', () => {
    assert.deepEqual(circles(graph), []);
  });

  it('keeps TypeORM in repositories, entities and the database module', () => {
    const leaks = [...graph.keys()].filter((file) => {
      if (/\.(repository|entity)\.ts$/.test(file) || file.startsWith('database/')) return false;
      return /from\s+'typeorm'/.test(readFileSync(join(SRC, file), 'utf8'));
    });
    assert.deepEqual(leaks, []);
  });

  it('detects a circle and an upward import when there is one', () => {
    const sample = new Map([
      ['users/a.ts', ['tenancy/b.ts']],
      ['tenancy/b.ts', ['users/a.ts']],
    ]);
    assert.deepEqual(circles(sample), [['tenancy/b.ts', 'users/a.ts']]);
    assert.ok((FLOORS[moduleOf('tenancy/b.ts')] ?? 0) > (FLOORS[moduleOf('users/a.ts')] ?? 0));
  });
});
