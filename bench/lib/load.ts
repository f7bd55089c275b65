import autocannon from 'autocannon';

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
