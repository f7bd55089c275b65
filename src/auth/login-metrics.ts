import { Injectable } from '@nestjs/common';
import { MetricsService } from '#src/metrics/metrics.service.js';

export type LoginOutcome =
  'success' | 'unknown_user' | 'bad_password' | 'locked' | 'pending' | 'disabled';

@Injectable()
export class LoginMetrics {
  constructor(private readonly metrics: MetricsService) {}

  outcome(outcome: LoginOutcome): void {
    this.metrics.logins.inc({ outcome });
  }
}
