import { Injectable } from '@nestjs/common';
import { MetricsService } from '#src/metrics/metrics.service.js';

export type LoginOutcome =
  | 'success'
  | 'unknown_user'
  | 'bad_password'
  | 'locked'
  | 'pending'
  | 'disabled'
  | 'mfa_required'
  | 'bad_second_factor';

@Injectable()
export class LoginMetrics {
  constructor(private readonly metrics: MetricsService) {}

  outcome(outcome: LoginOutcome): void {
    this.metrics.logins.inc({ outcome });
  }
}
