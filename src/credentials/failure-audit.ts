import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '#src/audit/audit.service.js';
import { reqIdField } from '#src/common/logging.js';
import { Database } from '#src/database/database.service.js';

const ONCE_PER_MS = 60_000;
const MAX_TRACKED = 10_000;

/**
 * Audits failed uses of known credentials (revoked or expired key, disabled owner, refresh-token
 * reuse) in their own transaction. Each (credential, reason) is written at most once a minute per
 * instance, so someone replaying a dead key cannot flood the audit chain, whose head every audited
 * write locks. Unknown or malformed tokens name no credential: they are logged, not audited.
 */
@Injectable()
export class FailureAudit {
  private readonly logger = new Logger('Credentials');
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
  ) {}

  async record(entry: {
    action: string;
    userId: string;
    credentialId: string;
    reason: string;
    extra?: Record<string, unknown>;
    /** The request that presented the credential (see `CredentialResolver.resolve`). */
    requestId?: string | null;
  }): Promise<void> {
    const key = `${entry.action}:${entry.credentialId}:${entry.reason}`;
    const now = Date.now();
    const last = this.recent.get(key);
    this.logger.warn({
      msg: 'credential use refused',
      ...reqIdField(entry.requestId),
      action: entry.action,
      credentialId: entry.credentialId,
      reason: entry.reason,
    });
    if (last !== undefined && now - last < ONCE_PER_MS) return;
    if (this.recent.size >= MAX_TRACKED) this.recent.clear();
    this.recent.set(key, now);
    await this.db.transaction((tx) =>
      this.audit.record(tx, {
        actorId: null,
        action: entry.action,
        targetType: 'user',
        targetId: entry.userId,
        changes: { credentialId: entry.credentialId, reason: entry.reason, ...entry.extra },
        requestId: entry.requestId ?? null,
      }),
    );
  }

  unknown(kind: string, visiblePrefix: string, requestId?: string | null): void {
    this.logger.warn({
      msg: 'unknown credential presented',
      ...reqIdField(requestId),
      kind,
      prefix: visiblePrefix,
    });
  }
}
