import autocannon from 'autocannon';
import { Agent, get as httpGet } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  seconds: number;
  connections: number;
  /** Fixed total request rate (latency probe) instead of as fast as possible. */
  overallRate?: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

/** One autocannon run (HTTP/1.1 keep-alive, no pipelining) against a loopback URL. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  let body: string | undefined;
  if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    headers['content-type'] = 'application/json';
  }
  const r = await autocannon({
    url: spec.url,
    method: spec.method ?? 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
    connections: spec.connections,
    duration: spec.seconds,
    pipelining: 1,
    timeout: 30,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
  });
  const total = r['2xx'] + r.non2xx;
  return {
    // Successful responses per second: a run that answers errors fast must not look fast.
    rps: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds: r.duration,
  };
}

export interface ProbeSpec {
  url: string;
  headers?: Record<string, string>;
  seconds: number;
  /** Requests per second, one every 1000/rate ms. */
  rate: number;
  /** Keep-alive connections the requests share (a late answer does not hold the next one back). */
  connections: number;
}

export interface ProbeResult extends LoadResult {
  max: number;
}

/**
 * A latency probe on a fixed schedule: request i is due at start + i·1000/rate ms, and its latency
 * runs from that due time to the end of its answer, so time a request spent waiting for a free
 * connection or for the runner's own event loop counts too (coordinated omission is measured, not
 * estimated). Percentiles are of the exact latencies (nearest rank), in milliseconds.
 *
 * Not autocannon: its rate mode sends each connection's requests for the second in one burst at
 * the second's start, and its coordinated-omission correction takes `Math.ceil(1 / rate)` as the
 * interval between requests, that is 1 ms at any rate of 1 req/s or more, so every answer slower
 * than 1 ms adds one synthetic sample per millisecond (a 17 ms answer adds 16). In a 50 req/s
 * probe of 8 s that made about 600 samples of 400 requests, and its p99 followed the slowest
 * answer of the run (docs/performance.md, "The sign-in storm's probe").
 */
export async function probe(spec: ProbeSpec): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const interval = 1000 / spec.rate;
  const count = Math.round(spec.seconds * spec.rate);
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const one = (due: number): Promise<void> =>
    new Promise((done) => {
      const req = httpGet(spec.url, { agent, headers: spec.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) ok++;
          else non2xx++;
          done();
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error('probe request timed out')));
      req.on('error', () => {
        errors++;
        done();
      });
    });
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(one(due));
  }
  await Promise.all(pending);
  agent.destroy();
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const rank = (p: number): number =>
    sorted.length
      ? (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0)
      : 0;
  return {
    rps: ok / seconds,
    p50: rank(0.5),
    p99: rank(0.99),
    max: sorted.at(-1) ?? 0,
    total: ok + non2xx,
    ok,
    non2xx,
    errors,
    seconds,
  };
}
