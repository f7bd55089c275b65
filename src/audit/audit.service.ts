import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Tx } from '#src/database/database.service.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { AuditRepository } from '#src/audit/audit.repository.js';
import { EventOutboxRow } from '#src/audit/event-outbox.entity.js';
import { EventOutboxRepository } from '#src/audit/event-outbox.repository.js';
import { currentImpersonation, currentRequestId } from '#src/common/request-context.js';

export const GENESIS_HASH = '0'.repeat(64);
const REDACTED_CHANGES = JSON.stringify({ redacted: true });
const REDACT_ACTION = 'audit.redact';

export interface AuditRecord {
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  /** What changed; callers pass before/after of plain fields, never secrets. */
  changes?: Record<string, unknown>;
  /**
   * The request the change was made by, when the caller knows it and the request may have no
   * context (`@NoRequestContext()` and `@HotRead()` routes); else the current request's.
   */
  requestId?: string | null;
}

export interface AuditEntryView {
  seq: string;
  at: string;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  changes: Record<string, unknown>;
  redacted: boolean;
  /** The request that made the change, as in the log's `reqId`; null for changes made outside one. */
  requestId: string | null;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  brokenAt: string | null;
  reason: string | null;
}

const SECRET_KEYS = /password|secret|token|hash|key$/i;

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Drops anything that looks like a secret, whatever a caller passed. */
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEYS.test(k) ? '[redacted]' : scrub(v),
      ]),
    );
  }
  return value;
}

export function entryHash(
  e: Pick<
    AuditEntry,
    'seq' | 'at' | 'actorId' | 'action' | 'targetType' | 'targetId' | 'changesDigest' | 'prevHash'
  >,
): string {
  return sha256(
    JSON.stringify([
      e.seq,
      e.at.toISOString(),
      e.actorId,
      e.action,
      e.targetType,
      e.targetId,
      e.changesDigest,
      e.prevHash,
    ]),
  );
}

@Injectable()
export class AuditService {
  private eventWanted: ((tx: Tx, action: string) => Promise<boolean>) | null = null;

  constructor(
    private readonly repo: AuditRepository,
    private readonly outbox: EventOutboxRepository,
  ) {}

  /** Takes the chain head's lock early, for a transaction that must not race any other write. */
  async lockChain(tx: Tx): Promise<void> {
    await this.repo.lockHead(tx);
  }

  /** Appends inside the caller's transaction, so the entry exists exactly when the change does. */
  async record(tx: Tx, record: AuditRecord): Promise<void> {
    const head = await this.repo.lockHead(tx);
    const entry = new AuditEntry();
    entry.seq = (BigInt(head.lastSeq) + 1n).toString();
    entry.at = new Date();
    entry.actorId = record.actorId;
    entry.action = record.action;
    entry.targetType = record.targetType;
    entry.targetId = record.targetId;
    // Every entry made through an impersonation session names the impersonator and the reason;
    // the actor stays the impersonated user (whose credential made the change).
    const impersonation = currentImpersonation();
    const changes = impersonation
      ? {
          ...(record.changes ?? {}),
          impersonatedBy: impersonation.by,
          impersonationReason: impersonation.reason,
        }
      : (record.changes ?? {});
    entry.changes = JSON.stringify(scrub(changes));
    entry.changesDigest = sha256(entry.changes);
    entry.prevHash = head.lastHash;
    entry.redactedAt = null;
    entry.requestId = record.requestId ?? currentRequestId();
    entry.hash = entryHash(entry);
    await this.repo.append(tx, entry);
    // The event for webhooks, in the same transaction: it exists if and only if the change does,
    // and its consumer (when one has said what it takes) wants this action.
    if (this.eventWanted && !(await this.eventWanted(tx, entry.action))) return;
    const event = new EventOutboxRow();
    event.seq = entry.seq;
    event.at = entry.at;
    event.actorId = entry.actorId;
    event.action = entry.action;
    event.targetType = entry.targetType;
    event.targetId = entry.targetId;
    event.changes = entry.changes;
    event.requestId = entry.requestId;
    await this.outbox.add(tx, event);
  }

  // --- The event outbox (read by the webhook worker) ---

  /**
   * Lets the outbox's consumer say, inside each recording transaction, whether it takes an event
   * for `action`; until one does, every change writes one. Without a taker (no enabled webhook
   * endpoint, the usual case) a change then costs one read instead of an outbox row that a worker
   * round would read, delete and fan out to nobody, on the event loop that serves requests.
   */
  wantEventsWhen(test: (tx: Tx, action: string) => Promise<boolean>): void {
    this.eventWanted = test;
  }

  /** Whether any event waits in the outbox. */
  hasPendingEvents(): Promise<boolean> {
    return this.outbox.pending();
  }

  /**
   * Takes up to `limit` events, oldest first, removing them in `tx`: only the transaction that wins
   * a row's deletion gets it, so two consumers never take the same event.
   */
  takeEvents(tx: Tx, limit: number): Promise<EventOutboxRow[]> {
    return this.outbox.take(tx, limit);
  }

  /** Calls `listener` after each commit (in this process) of a transaction that recorded a change. */
  onEventsCommitted(listener: () => void): void {
    this.outbox.onCommitted(listener);
  }

  async listForTarget(
    targetType: string,
    targetId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditEntryView>> {
    const before = decodeCursor(cursor, 1)?.[0];
    const rows = await this.repo.listByTarget(
      targetType,
      targetId,
      before === undefined ? null : String(before),
      limit + 1,
    );
    return toPage(rows, limit, (r) => [String(r.seq)], toView);
  }

  async listByActor(
    actorId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditEntryView>> {
    const before = decodeCursor(cursor, 1)?.[0];
    const rows = await this.repo.listByActor(
      actorId,
      before === undefined ? null : String(before),
      limit + 1,
    );
    return toPage(rows, limit, (r) => [String(r.seq)], toView);
  }

  /**
   * Personal data of a deleted user leaves their record's entries; the chain stays verifiable
   * because each hash covers the digest of the original changes, not the text itself.
   */
  async redactTarget(tx: Tx, targetType: string, targetId: string): Promise<void> {
    const entries = await this.repo.redactTarget(
      tx,
      targetType,
      targetId,
      REDACTED_CHANGES,
      new Date(),
    );
    // Events of the target not yet turned into deliveries lose their changes the same way.
    await this.outbox.redactTarget(tx, targetType, targetId, REDACTED_CHANGES);
    // The redaction is itself in the chain: a redacted entry without a later record of its
    // redaction is tampering (otherwise setting redacted_at would hide any rewrite).
    await this.record(tx, {
      actorId: null,
      action: REDACT_ACTION,
      targetType,
      targetId,
      changes: { entries },
    });
  }

  /** Walks the whole chain: every link, every hash, and every unredacted entry's digest. */
  async verifyChain(): Promise<ChainVerification> {
    let prev = GENESIS_HASH;
    let lastSeq = '0';
    let checked = 0;
    // Redacted entries not yet covered by a later redaction record, by target.
    const unaccounted = new Map<string, string>();
    // The head is read first: entries appended while we walk come after it, so the walk must pass
    // through it. A chain that ends before it had its newest entries removed.
    const head = await this.repo.readHead();
    let passedHead = String(head.lastSeq) === '0';
    for (;;) {
      const batch = await this.repo.batchFrom(lastSeq, 1000);
      if (batch.length === 0) {
        if (!passedHead) {
          return {
            ok: false,
            checked,
            brokenAt: String(head.lastSeq),
            reason: 'the newest entries were removed',
          };
        }
        const [seq] = unaccounted.values();
        return seq === undefined
          ? { ok: true, checked, brokenAt: null, reason: null }
          : { ok: false, checked, brokenAt: seq, reason: 'a redaction has no record in the chain' };
      }
      for (const e of batch) {
        const seq = String(e.seq);
        const fail = (reason: string): ChainVerification => ({
          ok: false,
          checked,
          brokenAt: seq,
          reason,
        });
        if (BigInt(seq) !== BigInt(lastSeq) + 1n) return fail('a sequence number is missing');
        if (e.prevHash !== prev) return fail('the link to the previous entry is broken');
        if (entryHash({ ...e, seq }) !== e.hash) return fail('the entry was altered');
        if (e.redactedAt === null && sha256(e.changes) !== e.changesDigest)
          return fail('the changes were altered');
        const target = `${e.targetType}\n${e.targetId}`;
        if (e.redactedAt !== null) {
          if (e.changes !== REDACTED_CHANGES) return fail('a redacted entry was altered');
          if (!unaccounted.has(target)) unaccounted.set(target, seq);
        }
        if (e.action === REDACT_ACTION) unaccounted.delete(target);
        if (seq === String(head.lastSeq)) {
          if (e.hash !== head.lastHash) return fail('the entry does not match the recorded head');
          passedHead = true;
        }
        prev = e.hash;
        lastSeq = seq;
        checked += 1;
      }
    }
  }
}

function toView(e: AuditEntry): AuditEntryView {
  return {
    seq: String(e.seq),
    at: e.at.toISOString(),
    actorId: e.actorId,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    changes: JSON.parse(e.changes) as Record<string, unknown>,
    redacted: e.redactedAt !== null,
    requestId: e.requestId,
  };
}
