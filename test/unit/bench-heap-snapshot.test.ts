import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { composition } from '../../bench/lib/heap-snapshot.js';

describe("bench:memory's reading of a heap snapshot", () => {
  it('sums a real snapshot by node type, source text by package and objects by constructor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-heap-test-'));
    // A package whose source is 200 KB of comment: its text must be counted under its name.
    const pkg = join(dir, 'node_modules', 'heap-test-pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'index.js'),
      `// ${'x'.repeat(200_000)}\nmodule.exports = () => 'loaded';\n`,
    );
    const file = join(dir, 'child.heapsnapshot');
    // A child process with 1000 objects of one class, a string of 300,000 characters, that package.
    execFileSync(process.execPath, [
      '-e',
      `class HeapTestThing { constructor(i) { this.i = i; } }
       globalThis.things = Array.from({ length: 1000 }, (_, i) => new HeapTestThing(i));
       globalThis.big = 'y'.repeat(300000);
       globalThis.loaded = require(${JSON.stringify(pkg)})();
       require('node:v8').writeHeapSnapshot(${JSON.stringify(file)});`,
    ]);

    const c = composition(file);
    assert.ok(c.nodes > 1000, `${c.nodes} nodes`);
    const byType = new Map(c.byType.map((t) => [t.type, t.bytes]));
    assert.equal(
      c.totalBytes,
      c.byType.reduce((a, t) => a + t.bytes, 0),
    );
    assert.ok((byType.get('string') ?? 0) >= 300_000, JSON.stringify(c.byType));
    const sorted = c.byType.map((t) => t.bytes);
    assert.deepEqual(
      sorted,
      [...sorted].sort((a, b) => b - a),
    );

    const own = c.sourceText.byPackage.find((p) => p.name === 'heap-test-pkg');
    assert.ok(own && own.bytes >= 200_000 && own.bytes < 210_000, JSON.stringify(own));
    assert.ok(c.sourceText.byPackage.some((p) => p.name === "Node's own modules"));
    assert.equal(
      c.sourceText.bytes,
      c.sourceText.byPackage.reduce((a, p) => a + p.bytes, 0),
    );

    const things = c.objects.find((o) => o.name === 'HeapTestThing');
    assert.equal(things?.count, 1000);
    assert.ok((things?.bytes ?? 0) > 0);
  });
});
