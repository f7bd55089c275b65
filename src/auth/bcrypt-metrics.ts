import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { PasswordService } from '#src/crypto/password.service.js';
import { MetricsService } from '#src/metrics/metrics.service.js';

/**
 * The bcrypt threads' load, read from the pool at each scrape: jobs running and queued (a queue
 * that stays long means sign-ins wait for CPU: add cores or BCRYPT_CONCURRENCY), and comparisons
 * dropped because their client went away before a thread was free.
 */
@Injectable()
export class BcryptMetrics {
  constructor(metrics: MetricsService, passwords: PasswordService) {
    new Gauge({
      name: 'gatehouse_bcrypt_jobs',
      help: 'bcrypt jobs by state: running on a thread, or queued for one',
      labelNames: ['state'],
      registers: [metrics.registry],
      collect() {
        const s = passwords.poolStats();
        this.set({ state: 'running' }, s.running);
        this.set({ state: 'queued' }, s.queued);
      },
    });
    new Counter({
      name: 'gatehouse_bcrypt_dropped_total',
      help: 'bcrypt jobs dropped from the queue because their client went away',
      registers: [metrics.registry],
      collect() {
        // The pool counts; the counter shows its count (reset, then set to it).
        this.reset();
        this.inc(passwords.poolStats().dropped);
      },
    });
  }
}
