import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service.js';

/** Times every request and labels it by route pattern (never the raw path: ids would explode cardinality). */
@Injectable()
export class MetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const labels = { method: req.method, route: `${req.baseUrl ?? ''}${route}` };
      this.metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
      this.metrics.httpRequests.inc({ ...labels, status: String(res.statusCode) });
      if (res.statusCode === 429) this.metrics.throttled.inc({ route: labels.route });
    });
    next();
  }
}
