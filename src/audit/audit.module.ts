import { Global, Module } from '@nestjs/common';
import { AuditRepository } from '#src/audit/audit.repository.js';
import { AuditService } from '#src/audit/audit.service.js';

/** Global: every module writes its changes through AuditService. */
@Global()
@Module({ providers: [AuditRepository, AuditService], exports: [AuditService] })
export class AuditModule {}
