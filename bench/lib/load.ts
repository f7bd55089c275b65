import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { PreparedConnection, prepareRequest } from './prepared-http.js';

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

/** The p-th percentile of ascending `sorted` by nearest rank (0 when empty). */
function nearestRank(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
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
  /** Every answer's latency, ascending, in milliseconds (for combining rounds: see combine()). */
  latencies: number[];
}

/**
 * Several runs of one kind (the sign-in scenario's rounds) as one: counts and seconds summed, the
 * rate over the summed seconds, percentiles and the maximum of all their answers together.
 */
export function combine(runs: ProbeResult[]): ProbeResult {
  const sum = (f: (r: ProbeResult) => number): number => runs.reduce((a, r) => a + f(r), 0);
  return sampled(
    runs.flatMap((r) => r.latencies),
    { ok: sum((r) => r.ok), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors) },
    sum((r) => r.seconds),
  );
}

/**
 * The result of a run timed answer by answer (the probe, the storm, their rounds together): the
 * rate of 2xx answers over `seconds`, and percentiles and maximum of the exact latencies.
 */
function sampled(
  latencies: number[],
  counts: { ok: number; non2xx: number; errors: number },
  seconds: number,
): ProbeResult {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    rps: seconds ? counts.ok / seconds : 0,
    p50: nearestRank(sorted, 0.5),
    p99: nearestRank(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
    total: counts.ok + counts.non2xx,
    ...counts,
    seconds,
    latencies: sorted,
  };
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
  const url = new URL(spec.url);
  const request = prepareRequest('GET', url, spec.headers);
  // Connections are handed out in turn; a request due while all are busy waits for the first free.
  const free = Array.from({ length: spec.connections }, () => new PreparedConnection(url));
  const all = [...free];
  const waiting: ((c: PreparedConnection) => void)[] = [];
  const acquire = (): Promise<PreparedConnection> => {
    const c = free.pop();
    return c ? Promise.resolve(c) : new Promise((resolve) => waiting.push(resolve));
  };
  const release = (c: PreparedConnection): void => {
    const next = waiting.shift();
    if (next) next(c);
    else free.push(c);
  };
  const interval = 1000 / spec.rate;
  const count = Math.round(spec.seconds * spec.rate);
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const one = async (due: number): Promise<void> => {
    const c = await acquire();
    try {
      const status = await c.send(request);
      latencies.push(performance.now() - due);
      if (status >= 200 && status < 300) ok++;
      else non2xx++;
    } catch {
      errors++;
    } finally {
      release(c);
    }
  };
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(one(due));
  }
  await Promise.all(pending);
  for (const c of all) c.close();
  return sampled(latencies, { ok, non2xx, errors }, (performance.now() - start) / 1000);
}

export interface StormSpec {
  url: string;
  headers?: Record<string, string>;
  body: unknown;
  connections: number;
  /** Seconds of storm before the measured window: the bcrypt threads' pipeline fills. */
  warmupSeconds: number;
  /** The measured window's length. */
  seconds: number;
}

export interface Storm {
  /** Resolves when the measured window starts (the storm has run warmupSeconds). */
  measuring: Promise<void>;
  /** Resolves when the measured window ends (no request is sent after it). */
  closed: Promise<void>;
  /** Resolves once the window has closed and the requests still in flight have ended. */
  done: Promise<ProbeResult>;
}

/**
 * A closed-loop storm of POSTs (each connection sends its next request when its answer ends),
 * measured in steady state: only the answers that end inside the window
 * [start + warmupSeconds, + seconds] count, and the storm keeps running from its warm-up into the
 * window. A storm measured from a cold start over a window that cuts it off counts the CPU spent
 * on the first and on the unfinished last comparisons of each bcrypt thread (about one comparison
 * per thread, 1.4% of an 8 s window at cost 12) but none of their answers; the pure-bcrypt bound
 * counts every comparison it starts. Percentiles are of the window's answers, in milliseconds.
 */
export function storm(spec: StormSpec): Storm {
  const url = new URL(spec.url);
  const request = prepareRequest(
    'POST',
    url,
    { ...(spec.headers ?? {}), 'content-type': 'application/json' },
    JSON.stringify(spec.body),
  );
  const start = performance.now();
  const windowStart = start + spec.warmupSeconds * 1000;
  const windowEnd = windowStart + spec.seconds * 1000;
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const inWindow = (t: number): boolean => t >= windowStart && t < windowEnd;
  const connection = async (): Promise<void> => {
    const c = new PreparedConnection(url);
    while (performance.now() < windowEnd) {
      const sent = performance.now();
      try {
        const status = await c.send(request);
        const ended = performance.now();
        if (!inWindow(ended)) continue;
        latencies.push(ended - sent);
        if (status >= 200 && status < 300) ok++;
        else non2xx++;
      } catch {
        if (inWindow(performance.now())) errors++;
        await sleep(10); // a refused connection must not spin
      }
    }
    c.close();
  };
  const running = Promise.all(Array.from({ length: spec.connections }, connection));
  const at = (t: number): Promise<void> =>
    sleep(Math.max(0, t - performance.now())).then(() => undefined);
  return {
    measuring: at(windowStart),
    closed: at(windowEnd),
    done: running.then(() => sampled(latencies, { ok, non2xx, errors }, spec.seconds)),
  };
}
