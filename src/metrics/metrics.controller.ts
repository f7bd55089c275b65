import { Controller, Get, Header, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { MetricsService } from '#src/metrics/metrics.service.js';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  @ApiProduces('text/plain')
  @ApiOperation({ operationId: 'scrapeMetrics', summary: 'Prometheus metrics' })
  @ApiOkResponse({ description: 'Prometheus text exposition format', type: String })
  // With METRICS_TOKEN set, a scrape without `Authorization: Bearer <token>` is refused.
  @ApiProblems(401)
  scrape(@Req() req: FastifyRequest): Promise<string> {
    return this.metrics.scrape(req);
  }
}
