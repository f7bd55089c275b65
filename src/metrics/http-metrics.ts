import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { MetricsService } from '#src/metrics/metrics.service.js';

interface RouteMetrics {
  observe(seconds: number): void;
  /** The request counter for a status, created on first use. */
  count: Map<number, { inc(): void }>;
}

/** Label sets seen so far are few (routes × methods × statuses); past this, stop caching new ones. */
const MAX_CACHED = 2_000;

/**
 * Times every request and labels it by route pattern (never the raw path: ids would explode
 * cardinality). The labelled metric children are cached per method and route, so a request does not
 * pay for prom-client's label hashing.
 */
@Injectable()
export class HttpMetrics {
  private readonly routes = new Map<string, RouteMetrics>();

  constructor(private readonly metrics: MetricsService) {}

  /** Observes every answered request (404s as route `unmatched`), from Fastify's onResponse hook. */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const m = this.metricsFor(req.method, route);
      m.observe(reply.elapsedTime / 1000);
      const status = reply.statusCode;
      let counter = m.count.get(status);
      if (!counter) {
        counter = this.metrics.httpRequests.labels({
          method: req.method,
          route,
          status: String(status),
        });
        if (m.count.size < 50) m.count.set(status, counter);
      }
      counter.inc();
      if (status === 429) this.metrics.throttled.inc({ route });
      done();
    });
  }

  private metricsFor(method: string, route: string): RouteMetrics {
    const key = `${method} ${route}`;
    let m = this.routes.get(key);
    if (!m) {
      const h = this.metrics.httpDuration.labels({ method, route });
      m = { observe: (s) => h.observe(s), count: new Map() };
      if (this.routes.size < MAX_CACHED) this.routes.set(key, m);
    }
    return m;
  }
}
