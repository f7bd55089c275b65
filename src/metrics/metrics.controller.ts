import { Controller, Get, Header, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
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
  @ApiOkResponse({ description: 'Prometheus text exposition format', type: String })
  scrape(@Req() req: Request): Promise<string> {
    return this.metrics.scrape(req);
  }
}
