import { Global, Module } from '@nestjs/common';
import { MetricsController } from '#src/metrics/metrics.controller.js';
import { HttpMetrics } from '#src/metrics/http-metrics.js';
import { MetricsService } from '#src/metrics/metrics.service.js';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, HttpMetrics],
  exports: [MetricsService, HttpMetrics],
})
export class MetricsModule {}
