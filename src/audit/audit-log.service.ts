import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import type { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { AuditRepository, type AuditFilter } from '#src/audit/audit.repository.js';
import { AuditService, type AuditEntryView } from '#src/audit/audit.service.js';

export interface AuditFilterInput {
  actorId?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
  since?: string;
  until?: string;
}

export interface AuditLogEntry extends AuditEntryView {
  hash: string;
  prevHash: string;
}

export interface AuditChainStatus {
  ok: boolean;
  checked: number;
  head: { seq: string; hash: string };
  firstBadSeq?: string;
  reason?: string;
}

const EXPORT_BATCH = 500;

/** The read side of the audit log for `/audit`: filtered pages, a streamed export, verification. */
@Injectable()
export class AuditLogService {
  constructor(
    private readonly repo: AuditRepository,
    private readonly audit: AuditService,
  ) {}

  /** Validated filters (dates already ISO 8601); `until` before `since` is a 400 naming `until`. */
  filter(input: AuditFilterInput): AuditFilter {
    const since = input.since === undefined ? undefined : new Date(input.since);
    const until = input.until === undefined ? undefined : new Date(input.until);
    if (since && Number.isNaN(since.getTime()))
      throw AppException.invalid('since', 'must be an ISO 8601 date-time');
    if (until && Number.isNaN(until.getTime()))
      throw AppException.invalid('until', 'must be an ISO 8601 date-time');
    if (since && until && until.getTime() < since.getTime())
      throw AppException.invalid('until', 'must not be before since');
    return {
      ...(input.actorId !== undefined ? { actorId: input.actorId } : {}),
      ...(input.targetType !== undefined ? { targetType: input.targetType } : {}),
      ...(input.targetId !== undefined ? { targetId: input.targetId } : {}),
      ...(input.action !== undefined ? { action: input.action } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
    };
  }

  async list(f: AuditFilter, limit: number, cursor?: string): Promise<Page<AuditLogEntry>> {
    const before = decodeCursor(cursor, 1)?.[0];
    if (before !== undefined && !/^\d{1,19}$/.test(String(before)))
      throw AppException.invalid('cursor', 'is not a valid cursor');
    const rows = await this.repo.listFiltered(
      f,
      before === undefined ? null : String(before),
      limit + 1,
    );
    return toPage(rows, limit, (r) => [String(r.seq)], toLogEntry);
  }

  /** Every matching entry, oldest first, a batch at a time: never the whole log in memory. */
  async *export(f: AuditFilter): AsyncGenerator<AuditLogEntry> {
    let after = '0';
    for (;;) {
      const batch = await this.repo.exportBatch(f, after, EXPORT_BATCH);
      for (const row of batch) yield toLogEntry(row);
      const last = batch[batch.length - 1];
      if (!last || batch.length < EXPORT_BATCH) return;
      after = String(last.seq);
    }
  }

  async verify(): Promise<AuditChainStatus> {
    // The head as verification starts: the walk checks at least up to it.
    const head = await this.repo.readHead();
    const result = await this.audit.verifyChain();
    return {
      ok: result.ok,
      checked: result.checked,
      head: { seq: String(head.lastSeq), hash: head.lastHash },
      ...(result.ok
        ? {}
        : {
            ...(result.brokenAt !== null ? { firstBadSeq: result.brokenAt } : {}),
            ...(result.reason !== null ? { reason: result.reason } : {}),
          }),
    };
  }
}

function toLogEntry(e: AuditEntry): AuditLogEntry {
  return {
    seq: String(e.seq),
    at: e.at.toISOString(),
    actorId: e.actorId,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    changes: parseChanges(e.changes),
    redacted: e.redactedAt !== null,
    requestId: e.requestId,
    hash: e.hash,
    prevHash: e.prevHash,
  };
}

/** The stored changes; text that is not a JSON object (a tampered row) is shown, not thrown. */
function parseChanges(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { unreadable: text.slice(0, 200) };
}
