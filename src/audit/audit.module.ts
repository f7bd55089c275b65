import { Global, Module } from '@nestjs/common';
import { AuditRepository } from '#src/audit/audit.repository.js';
import { AuditService } from '#src/audit/audit.service.js';
import { EventOutboxRepository } from '#src/audit/event-outbox.repository.js';

/** Global: every module writes its changes through AuditService (and so into the event outbox). */
@Global()
@Module({
  providers: [AuditRepository, AuditService, EventOutboxRepository],
  exports: [AuditService],
})
export class AuditModule {}
