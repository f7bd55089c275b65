import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter } from 'prom-client';
import { AuditService } from '#src/audit/audit.service.js';
import type { EventOutboxRow } from '#src/audit/event-outbox.entity.js';
import { AppConfig } from '#src/config/config.js';
import { SecretBox } from '#src/crypto/secret-box.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { MetricsService } from '#src/metrics/metrics.service.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { DeliveriesRepository } from '#src/webhooks/deliveries.repository.js';
import { WebhookAttempt } from '#src/webhooks/entities/webhook-attempt.entity.js';
import { WebhookDelivery } from '#src/webhooks/entities/webhook-delivery.entity.js';
import { sendEvent, type SendResult } from '#src/webhooks/sender.js';
import { secretAad, signedHeaders } from '#src/webhooks/signing.js';
import { matchesFilters } from '#src/webhooks/webhook-events.js';
import { WebhooksRepository } from '#src/webhooks/webhooks.repository.js';

/** Retries go on this long after the event (or after a manual retry), then the delivery fails. */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** The first retry waits about this long; each next one twice as long, up to RETRY_MAX_DELAY_MS. */
export const RETRY_BASE_MS = 10_000;
export const RETRY_MAX_DELAY_MS = 4 * 60 * 60 * 1000;
/** How often each instance looks for due work when nothing woke it. */
export const POLL_INTERVAL_MS = 1_000;
/** A claim holds a delivery this long; longer than one attempt can take (5 s + 10 s). */
export const LEASE_MS = 60_000;
const OUTBOX_BATCH = 100;
const SEND_BATCH = 10;

/** The delay before retry number `failures` (1 = after the first failed attempt), with jitter. */
export function retryDelayMs(failures: number, random = Math.random()): number {
  const ceiling = Math.min(RETRY_BASE_MS * 2 ** (failures - 1), RETRY_MAX_DELAY_MS);
  // Between half and all of the ceiling, so receivers recovering from an outage are not hit at once.
  return Math.round(ceiling * (0.5 + random / 2));
}

interface EventPayload {
  type: string;
  timestamp: string;
  data: {
    seq: string;
    action: string;
    actorId: string | null;
    target: { type: string; id: string };
    workspaceId: string | null;
    changes: unknown;
    requestId: string | null;
  };
}

/**
 * The delivery worker, one per instance. Each round it (1) takes events from the outbox and writes
 * one delivery per matching endpoint, in one transaction per batch, and (2) claims due deliveries
 * by committing a lease (a conditional UPDATE checked by its affected rows, so it holds on a Galera
 * cluster, where SELECT … FOR UPDATE locks only on the local node), then sends them and records the
 * attempt while the claim is still its own. It runs beside the HTTP server, never inside a request.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookWorker');
  /** Names this instance in claims and attempts. */
  readonly workerId = `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(3).toString('hex')}`;
  /** The worker's clock; tests move it forward to reach retries without waiting. */
  clock: () => Date = () => new Date();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly inFlight = new Set<AbortController>();
  private readonly sent: Counter;

  constructor(
    private readonly db: Database,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly endpoints: WebhooksRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly box: SecretBox,
    private readonly access: AccessService,
    metrics: MetricsService,
  ) {
    this.sent =
      (metrics.registry.getSingleMetric('gatehouse_webhook_attempts_total') as
        Counter | undefined) ??
      new Counter({
        name: 'gatehouse_webhook_attempts_total',
        help: 'Webhook delivery attempts by outcome (succeeded, failed, gave_up)',
        labelNames: ['outcome'],
        registers: [metrics.registry],
      });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.audit.wantEventsWhen((tx, action) => this.endpoints.anyEnabledFor(tx, action));
    this.audit.onEventsCommitted(() => this.wake());
    this.schedule(0);
  }

  /** Stops polling, aborts requests in flight (their leases are released) and waits for the round. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.inFlight) c.abort();
    await this.running;
  }

  /** Run a round as soon as possible (after the current one). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    if (this.running || this.stopped) return;
    this.again = false;
    this.running = this.runOnce()
      .then((busy) => {
        if (busy) this.again = true;
      })
      .catch((err: unknown) => {
        this.logger.warn({ msg: 'webhook round failed', error: (err as Error).message });
      })
      .finally(() => {
        this.running = null;
        this.schedule(this.again ? 0 : POLL_INTERVAL_MS);
      });
  }

  /**
   * One round; true when a batch was full, so more work may be waiting and another round follows
   * at once. A round that drained the outbox and the due deliveries waits for the next commit or
   * poll instead: a second round right after every event would only read two empty tables again,
   * on the event loop that serves requests.
   */
  async runOnce(): Promise<boolean> {
    const fanned = await this.fanOut();
    const sent = await this.deliverDue();
    return fanned >= OUTBOX_BATCH || sent >= SEND_BATCH;
  }

  // --- 1. Outbox → deliveries ---

  /** Takes a batch of events and writes their deliveries, all in one transaction. */
  async fanOut(): Promise<number> {
    if (!(await this.audit.hasPendingEvents())) return 0;
    return this.db.transaction(async (tx) => {
      const events = await this.audit.takeEvents(tx, OUTBOX_BATCH);
      if (events.length === 0) return 0;
      const endpoints = await this.endpoints.enabled(tx);
      const now = this.clock();
      const rows: WebhookDelivery[] = [];
      for (const event of events) {
        const matching = endpoints.filter((e) => matchesFilters(e.events, event.action));
        if (matching.length === 0) continue;
        const workspaceId = await this.workspaceOf(event, tx);
        const payload = JSON.stringify(toPayload(event, workspaceId));
        for (const e of matching) {
          if (e.workspaceId !== null && e.workspaceId !== workspaceId) continue;
          const d = new WebhookDelivery();
          d.id = newId();
          d.endpointId = e.id;
          d.eventSeq = event.seq;
          d.eventType = event.action;
          d.payload = payload;
          d.status = 'pending';
          d.attempts = 0;
          d.nextAttemptAt = now;
          d.giveUpAt = new Date(now.getTime() + RETRY_WINDOW_MS);
          d.claimedBy = null;
          d.leaseUntil = null;
          d.lastStatusCode = null;
          d.lastError = null;
          d.createdAt = now;
          d.updatedAt = now;
          d.completedAt = null;
          rows.push(d);
        }
      }
      await this.deliveries.insert(tx, rows);
      return events.length;
    });
  }

  /**
   * The workspace an event belongs to: the target itself when it is a workspace; else the
   * `workspaceId` its changes name; else, for a group or project, the one it belongs to now.
   * Other events (users, credentials, roles…) belong to no workspace: server-wide endpoints only.
   */
  private async workspaceOf(event: EventOutboxRow, tx: Tx): Promise<string | null> {
    if (event.targetType === 'workspace') return event.targetId;
    const changes = parseChanges(event.changes);
    if (changes && typeof changes.workspaceId === 'string') return changes.workspaceId;
    if (event.targetType === 'group' || event.targetType === 'project')
      return this.access.workspaceIdOf(event.targetType, event.targetId, tx);
    return null;
  }

  // --- 2. Deliveries → HTTP ---

  async deliverDue(): Promise<number> {
    const now = this.clock();
    const due = await this.deliveries.dueIds(now, SEND_BATCH);
    const claimed: { id: string; claim: string }[] = [];
    for (const id of due) {
      if (this.stopped) break;
      const claim = `${this.workerId}:${randomBytes(4).toString('hex')}`;
      const leaseUntil = new Date(now.getTime() + LEASE_MS);
      // Committed before anything is sent: another instance sees the lease, whichever node it reads.
      const won = await this.db
        .transaction((tx) => this.deliveries.claim(tx, id, claim, now, leaseUntil))
        .catch(() => false);
      if (won) claimed.push({ id, claim });
    }
    await Promise.all(claimed.map((c) => this.attempt(c.id, c.claim)));
    return claimed.length;
  }

  private async attempt(id: string, claim: string): Promise<void> {
    const d = await this.deliveries.findClaimed(id, claim);
    if (!d) return;
    const endpoint = await this.endpoints.findById(d.endpointId);
    if (!endpoint) return; // deleted meanwhile: its deliveries went with it
    const started = this.clock();
    let secrets: string[] | null;
    try {
      secrets = await this.secretsFor(d.endpointId);
    } catch (err) {
      // A secret sealed under an encryption key no longer configured: a failed attempt, logged.
      this.logger.error({
        msg: 'webhook secret unreadable',
        id: d.endpointId,
        error: (err as Error).message,
      });
      await this.record(d, claim, started, {
        statusCode: null,
        error: 'the signing secret cannot be read (encryption key missing)',
        durationMs: 0,
      });
      return;
    }
    if (!secrets) return;
    const controller = new AbortController();
    this.inFlight.add(controller);
    let result: SendResult;
    try {
      result = await sendEvent(
        endpoint.url,
        signedHeaders(d.id, new Date(), d.payload, secrets),
        d.payload,
        { allowPrivate: this.config.webhookAllowPrivate, signal: controller.signal },
      );
    } finally {
      this.inFlight.delete(controller);
    }
    if (controller.signal.aborted) {
      // Shutting down: give the delivery back; another instance (or the next start) sends it.
      await this.db.transaction((tx) => this.deliveries.release(tx, id, claim)).catch(() => {});
      return;
    }
    await this.record(d, claim, started, result);
  }

  private async record(
    d: WebhookDelivery,
    claim: string,
    started: Date,
    result: SendResult,
  ): Promise<void> {
    const now = this.clock();
    const succeeded = result.error === null;
    const attempt = d.attempts + 1;
    const next = new Date(now.getTime() + retryDelayMs(attempt));
    const giveUp = !succeeded && next > d.giveUpAt;
    const a = new WebhookAttempt();
    a.id = newId();
    a.deliveryId = d.id;
    a.attempt = attempt;
    a.startedAt = started;
    a.durationMs = result.durationMs;
    a.statusCode = result.statusCode;
    a.error = result.error;
    a.succeeded = succeeded;
    a.worker = this.workerId.slice(0, 64);
    const kept = await this.db.transaction(async (tx) => {
      const ok = await this.deliveries.finish(tx, d.id, claim, {
        status: succeeded ? 'succeeded' : giveUp ? 'failed' : 'pending',
        attempts: attempt,
        nextAttemptAt: succeeded || giveUp ? now : next,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        completedAt: succeeded || giveUp ? now : null,
        updatedAt: now,
      });
      if (ok) await this.deliveries.addAttempt(tx, a);
      return ok;
    });
    if (!kept) {
      this.logger.warn({ msg: 'webhook lease lost before the attempt was recorded', id: d.id });
      return;
    }
    this.sent.inc({ outcome: succeeded ? 'succeeded' : giveUp ? 'gave_up' : 'failed' });
  }

  /** The secrets that sign now: the current one, and the previous one during its overlap. */
  private async secretsFor(endpointId: string): Promise<string[] | null> {
    const s = await this.endpoints.secretsOf(endpointId);
    if (!s) return null;
    const aad = secretAad(endpointId);
    const out = [this.box.open(s.current, aad)];
    if (s.previous && s.previous.until > this.clock()) out.push(this.box.open(s.previous, aad));
    return out;
  }
}

function parseChanges(raw: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The Standard Webhooks payload: `{type, timestamp, data}` with the audit entry's facts. */
function toPayload(event: EventOutboxRow, workspaceId: string | null): EventPayload {
  return {
    type: event.action,
    timestamp: event.at.toISOString(),
    data: {
      seq: String(event.seq),
      action: event.action,
      actorId: event.actorId,
      target: { type: event.targetType, id: event.targetId },
      workspaceId,
      changes: parseChanges(event.changes) ?? {},
      requestId: event.requestId,
    },
  };
}
