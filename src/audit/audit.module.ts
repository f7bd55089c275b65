import { Global, Module } from '@nestjs/common';
import { AuditController } from '#src/audit/audit.controller.js';
import { AuditLogService } from '#src/audit/audit-log.service.js';
import { AuditRepository } from '#src/audit/audit.repository.js';
import { AuditService } from '#src/audit/audit.service.js';

/** Global: every module writes its changes through AuditService. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditLogService],
  exports: [AuditService],
})
export class AuditModule {}
