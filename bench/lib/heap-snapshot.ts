import { readFileSync } from 'node:fs';

/** The parts of V8's `.heapsnapshot` format read here (see Chrome DevTools' HeapSnapshot). */
interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapComposition {
  totalBytes: number;
  nodes: number;
  /** Self size by V8's node type (string, code, array, object, closure, ...), largest first. */
  byType: { type: string; bytes: number }[];
  /** The source text V8 keeps of every loaded script, by npm package (or Gatehouse, or Node). */
  sourceText: { bytes: number; scripts: number; byPackage: { name: string; bytes: number }[] };
  /** Objects by constructor name, largest first. */
  objects: { name: string; bytes: number; count: number }[];
}

function sortedDesc<T extends { bytes: number }>(xs: T[]): T[] {
  return xs.sort((a, b) => b.bytes - a.bytes);
}

/** Where a script comes from: an npm package, Gatehouse's build, or Node's own modules. */
function packageOf(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  if (/\/dist\/(src|bench)\//.test(url)) return 'Gatehouse (dist)';
  if (url.startsWith('node:') || !url.includes('/')) return "Node's own modules";
  return url;
}

/**
 * Reads a heap snapshot and sums it up: bytes by node type, the scripts' source text by package
 * (a script is a `code` node with an internal `source` edge to its text, named by its URL), and
 * the objects by constructor.
 */
export function composition(file: string): HeapComposition {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const { meta } = snap.snapshot;
  const N = meta.node_fields.length;
  const E = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf('type');
  const nName = meta.node_fields.indexOf('name');
  const nSize = meta.node_fields.indexOf('self_size');
  const nEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = snap;
  const at = (i: number, field: number): number => nodes[i + field] ?? 0;
  const typeOf = (i: number): string => nodeTypes[at(i, nType)] ?? '?';
  const nameOf = (i: number): string => strings[at(i, nName)] ?? '';

  const byType = new Map<string, number>();
  const objects = new Map<string, { bytes: number; count: number }>();
  const byPackage = new Map<string, number>();
  const sources = new Set<number>();
  let total = 0;
  let sourceBytes = 0;
  let edge = 0;
  for (let i = 0; i < nodes.length; i += N) {
    const type = typeOf(i);
    const size = at(i, nSize);
    const edgeCount = at(i, nEdges);
    total += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    if (type === 'object') {
      const o = objects.get(nameOf(i)) ?? { bytes: 0, count: 0 };
      o.bytes += size;
      o.count += 1;
      objects.set(nameOf(i), o);
    }
    if (type === 'code') {
      for (let k = 0; k < edgeCount; k++) {
        const b = edge + k * E;
        if (edgeTypes[edges[b + eType] ?? -1] !== 'internal') continue;
        if (strings[edges[b + eName] ?? -1] !== 'source') continue;
        const to = edges[b + eTo] ?? -1;
        if (to < 0 || sources.has(to) || typeOf(to) !== 'string') continue;
        sources.add(to);
        const bytes = at(to, nSize);
        sourceBytes += bytes;
        const pkg = packageOf(nameOf(i));
        byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytes);
      }
    }
    edge += edgeCount * E;
  }
  return {
    totalBytes: total,
    nodes: nodes.length / N,
    byType: sortedDesc([...byType].map(([type, bytes]) => ({ type, bytes }))),
    sourceText: {
      bytes: sourceBytes,
      scripts: sources.size,
      byPackage: sortedDesc([...byPackage].map(([name, bytes]) => ({ name, bytes }))),
    },
    objects: sortedDesc([...objects].map(([name, o]) => ({ name, ...o }))),
  };
}
