import { Global, Module } from '@nestjs/common';
import { AuditController } from '#src/audit/audit.controller.js';
import { AuditLogService } from '#src/audit/audit-log.service.js';
import { AuditRepository } from '#src/audit/audit.repository.js';
import { AuditService } from '#src/audit/audit.service.js';
import { EventOutboxRepository } from '#src/audit/event-outbox.repository.js';

/** Global: every module writes its changes through AuditService (and so into the event outbox). */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditLogService, EventOutboxRepository],
  exports: [AuditService],
})
export class AuditModule {}
