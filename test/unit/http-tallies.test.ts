import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { HTTP_DURATION_BUCKETS, HttpTallies } from '#src/metrics/http-tallies.js';

/** Requests as [method, route, seconds, status]: bounds hit exactly, between, past the last, none. */
const requests: [string, string, number, number][] = [
  ['GET', '/api/v1/users/me', 0.0004, 200],
  ['GET', '/api/v1/users/me', 0.001, 200],
  ['GET', '/api/v1/users/me', 0.0011, 401],
  ['GET', '/api/v1/users/me', 0.3, 200],
  ['POST', '/api/v1/auth/login', 0.25, 200],
  ['POST', '/api/v1/auth/login', 2.5, 401],
  ['POST', '/api/v1/auth/login', 7, 429],
  ['HEAD', '/api/v1/users/me', 0.002, 200],
  ['GET', 'unmatched', 0.0001, 404],
];

/** The same requests through prom-client's own Counter and Histogram, as Gatehouse once recorded them. */
function promClientReference(): Registry {
  const registry = new Registry();
  const count = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [...HTTP_DURATION_BUCKETS],
    registers: [registry],
  });
  for (const [method, route, seconds, status] of requests) {
    count.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, seconds);
  }
  return registry;
}

function tallied(): { registry: Registry; tallies: HttpTallies } {
  const registry = new Registry();
  const tallies = new HttpTallies(registry);
  for (const [method, route, seconds, status] of requests) {
    tallies.tally(method, route).record(seconds, status);
  }
  return { registry, tallies };
}

/** A value with every object's keys sorted, to compare regardless of key order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

describe('HTTP request metrics tallied per route', () => {
  it('expose exactly the text prom-client gives for the same requests', async () => {
    const expected = await promClientReference().metrics();
    const { registry } = tallied();
    assert.equal(await registry.metrics(), expected);
    // Not an empty match: the series are there.
    assert.match(
      expected,
      /^gatehouse_http_request_duration_seconds_bucket\{le="0.001",method="GET",route="\/api\/v1\/users\/me"\} 2$/m,
    );
    assert.match(
      expected,
      /^gatehouse_http_requests_total\{method="POST",route="\/api\/v1\/auth\/login",status="429"\} 1$/m,
    );
  });

  it('give the JSON form prom-client gives', async () => {
    const expected = await promClientReference().getMetricsAsJSON();
    const { registry } = tallied();
    const actual = await registry.getMetricsAsJSON();
    // Key order aside (prom-client builds its label objects in another order), the same series.
    assert.deepEqual(canonical(actual), canonical(expected));
    assert.ok(expected.some((m) => m.values.length > 0));
  });

  it('keep counting across scrapes, and a later request adds to the same series', async () => {
    const { registry, tallies } = tallied();
    await registry.metrics();
    tallies.tally('GET', '/api/v1/users/me').record(0.003, 200);
    const text = await registry.metrics();
    assert.match(
      text,
      /^gatehouse_http_requests_total\{method="GET",route="\/api\/v1\/users\/me",status="200"\} 4$/m,
    );
    assert.match(
      text,
      /^gatehouse_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/users\/me"\} 5$/m,
    );
    assert.equal(
      tallies.tally('GET', '/api/v1/users/me'),
      tallies.tally('GET', '/api/v1/users/me'),
    );
  });
});
