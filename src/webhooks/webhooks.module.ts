import { Module } from '@nestjs/common';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { TenancyModule } from '#src/tenancy/tenancy.module.js';
import { DeliveriesRepository } from '#src/webhooks/deliveries.repository.js';
import { WebhookWorker } from '#src/webhooks/webhook-worker.js';
import { WebhooksController } from '#src/webhooks/webhooks.controller.js';
import { WebhooksRepository } from '#src/webhooks/webhooks.repository.js';
import { WebhooksService } from '#src/webhooks/webhooks.service.js';

/** Webhooks: endpoints, the delivery worker fed by the audit log's outbox, the delivery log. */
@Module({
  imports: [CryptoModule, TenancyModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, DeliveriesRepository, WebhooksService, WebhookWorker],
  exports: [WebhooksService],
})
export class WebhooksModule {}
