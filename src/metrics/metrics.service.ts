import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics: HTTP by route, sign-in outcomes, throttling, database pool. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
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
  readonly dbPool = new Gauge({
    name: 'gatehouse_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
  }
}
