import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  frames: { name: string; where: string; selfPct: number }[];
  areas: { area: string; selfPct: number }[];
  /** Gatehouse functions by inclusive time (self + callees): where the request's work starts. */
  inclusive: { name: string; where: string; totalPct: number }[];
}

/** Where a frame lives: a package, node internals, Gatehouse source, or the VM (GC, idle, program). */
function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  const src = /\/dist\/(src|bench)\/([^/]+)/.exec(url);
  if (src) return `gatehouse ${src[1]}/${src[2]}`;
  return url;
}

function shortUrl(url: string): string {
  const nm = /node_modules\/(.*)$/.exec(url);
  if (nm?.[1]) return nm[1];
  const dist = /\/dist\/(.*)$/.exec(url);
  return dist?.[1] ?? url;
}

/**
 * Self time by function and by area (package / module) of a V8 .cpuprofile, counting only the
 * samples of the last `windowS` seconds before the profile ended (the load run, not start-up).
 */
export function summarise(file: string, windowS: number, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hits = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let t = p.startTime;
  const from = p.endTime - windowS * 1e6;
  samples.forEach((s, i) => {
    t += deltas[i] ?? 0;
    if (t >= from) hits.set(s, (hits.get(s) ?? 0) + 1);
  });
  let total = 0;
  for (const v of hits.values()) total += v;
  const byFrame = new Map<string, { name: string; where: string; n: number }>();
  const byArea = new Map<string, number>();
  for (const node of p.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (!n) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const cur = byFrame.get(key) ?? { name, where, n: 0 };
    cur.n += n;
    byFrame.set(key, cur);
    const area = areaOf(url, name);
    byArea.set(area, (byArea.get(area) ?? 0) + n);
  }
  // Inclusive time of Gatehouse's own functions (each counted once per call stack).
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, { name: string; where: string; n: number }>();
  for (const [id, n] of hits) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node) break;
      const { functionName, url, lineNumber } = node.callFrame;
      if (!/\/dist\/src\//.test(url)) continue;
      const where = `${shortUrl(url)}:${lineNumber + 1}`;
      const key = `${functionName}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = inclusive.get(key) ?? { name: functionName || '(anonymous)', where, n: 0 };
      e.n += n;
      inclusive.set(key, e);
    }
  }
  const pct = (n: number): number => Math.round((n / Math.max(total, 1)) * 1000) / 10;
  return {
    totalMs: Math.min(windowS * 1000, (p.endTime - p.startTime) / 1000),
    frames: [...byFrame.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfPct: pct(f.n) })),
    areas: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, n]) => ({ area, selfPct: pct(n) })),
    inclusive: [...inclusive.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, totalPct: pct(f.n) })),
  };
}
