import { Global, Module } from '@nestjs/common';
import { MetricsController } from '#src/metrics/metrics.controller.js';
import { MetricsMiddleware } from '#src/metrics/metrics.middleware.js';
import { MetricsService } from '#src/metrics/metrics.service.js';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, MetricsMiddleware],
  exports: [MetricsService, MetricsMiddleware],
})
export class MetricsModule {}
