import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, onResponseHookHandler } from 'fastify';
import { MetricsService } from '#src/metrics/metrics.service.js';
import type { RouteTally } from '#src/metrics/http-tallies.js';

/**
 * Times every request and counts it by route pattern (never the raw path: ids would explode
 * cardinality), method and status. Each route gets its own `onResponse` hook when it is registered,
 * holding its tally, so a request neither builds Fastify's `routeOptions` nor looks its labels up;
 * requests no route matched are counted as route `unmatched` by one hook of the whole server.
 */
@Injectable()
export class HttpMetrics {
  constructor(private readonly metrics: MetricsService) {}

  /** Call before the routes are registered (Nest registers them when the app starts). */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onRoute', (route) => {
      const tallyOf = this.metrics.http.ofRoute(route.url);
      const countRequest: onResponseHookHandler = (req, reply, done) => {
        this.count(tallyOf(req.method), reply);
        done();
      };
      const existing = route.onResponse ?? [];
      route.onResponse = [...(Array.isArray(existing) ? existing : [existing]), countRequest];
    });
    const unmatched = this.metrics.http.ofRoute('unmatched');
    fastify.addHook('onResponse', (req, reply, done) => {
      if (req.is404) this.count(unmatched(req.method), reply);
      done();
    });
  }

  private count(tally: RouteTally, reply: FastifyReply): void {
    const status = reply.statusCode;
    tally.record(reply.elapsedTime / 1000, status);
    if (status === 429) this.metrics.throttled.inc({ route: tally.route });
  }
}
