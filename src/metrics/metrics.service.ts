import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { HttpTallies } from '#src/metrics/http-tallies.js';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';

/**
 * prom-client's default metrics include three gauges named `*_total` (sums of the per-type
 * `nodejs_active_*` gauges); `_total` is for counters, so they are left out.
 */
const GAUGES_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function isLoopback(ip: string | undefined): boolean {
  if (!ip || !isIP(ip)) return false;
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** Prometheus metrics: HTTP by route, sign-in outcomes, throttling (and the process's defaults). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  /** The HTTP requests' count and durations, by route (HttpMetrics records them). */
  readonly http = new HttpTallies(this.registry);
  readonly logins = new Counter({
    name: 'gatehouse_login_total',
    help: 'Sign-in attempts by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly throttled = new Counter({
    name: 'gatehouse_throttled_total',
    help: 'Requests refused with 429',
    labelNames: ['route'],
    registers: [this.registry],
  });

  constructor(private readonly config: AppConfig) {
    // The event-loop delay monitor's timer wakes the loop at every sample: prom-client's 10 ms is
    // 100 wake-ups a second of an otherwise idle loop, about 1% of a core on the bench machine,
    // taken from the sign-ins' bcrypt threads (docs/performance.md); 100 ms is the default here.
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: config.metricsLoopDelayResolutionMs,
    });
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
  }

  /**
   * The exposition, for a caller allowed to read it: with METRICS_TOKEN, the bearer of that token;
   * without it, anyone, except in production, where only a direct loopback caller (no proxy header).
   */
  async scrape(req: FastifyRequest): Promise<string> {
    const token = this.config.metricsToken;
    if (token !== null) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      // Compared as digests: constant time, whatever the lengths.
      if (!m?.[1] || !timingSafeEqual(sha256(m[1]), sha256(token)))
        throw AppException.unauthenticated('/metrics needs the METRICS_TOKEN as a bearer token.');
    } else if (this.config.isProduction) {
      const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded;
      if (proxied || !isLoopback(req.socket.remoteAddress))
        throw AppException.forbidden(
          'Without METRICS_TOKEN, /metrics answers only to loopback in production.',
        );
    }
    return this.registry.metrics();
  }
}
