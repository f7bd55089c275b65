import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { AppConfig } from '#src/config/config.js';
import { AuditService } from '#src/audit/audit.service.js';
import { SecretBox } from '#src/crypto/secret-box.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { can } from '#src/kernel/anti-escalation.js';
import type { Principal } from '#src/kernel/principal.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { DeclaresPermissions } from '#src/users/permission-catalogue.js';
import { DeliveriesRepository } from '#src/webhooks/deliveries.repository.js';
import type { WebhookAttempt } from '#src/webhooks/entities/webhook-attempt.entity.js';
import type {
  DeliveryStatus,
  WebhookDelivery,
} from '#src/webhooks/entities/webhook-delivery.entity.js';
import { WebhookEndpoint } from '#src/webhooks/entities/webhook-endpoint.entity.js';
import { generateSecret, secretAad } from '#src/webhooks/signing.js';
import { resolveAllowed, TargetRefused, urlProblem } from '#src/webhooks/target-guard.js';
import { validateEventFilters } from '#src/webhooks/webhook-events.js';
import { WebhooksRepository, type EndpointChanges } from '#src/webhooks/webhooks.repository.js';
import { WebhookWorker, RETRY_WINDOW_MS } from '#src/webhooks/webhook-worker.js';

export const WEBHOOKS_MANAGE = 'webhooks.manage';
/** After a rotation the previous secret keeps signing (beside the new one) this long. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface WebhookResponse {
  id: string;
  url: string;
  events: string[];
  workspaceId: string | null;
  description: string | null;
  enabled: boolean;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookSecretResponse {
  id: string;
  secret: string;
  previousSecretExpiresAt: string | null;
}

export interface AttemptResponse {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
}

export interface DeliveryResponse {
  id: string;
  eventSeq: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  completedAt: string | null;
  attempts: AttemptResponse[];
}

export function toWebhookResponse(e: WebhookEndpoint, now = new Date()): WebhookResponse {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    workspaceId: e.workspaceId,
    description: e.description,
    enabled: e.enabled,
    previousSecretExpiresAt:
      e.previousSecretUntil && e.previousSecretUntil > now
        ? e.previousSecretUntil.toISOString()
        : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function toAttemptResponse(a: WebhookAttempt): AttemptResponse {
  return {
    attempt: a.attempt,
    startedAt: a.startedAt.toISOString(),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    error: a.error,
    succeeded: a.succeeded,
  };
}

function toDeliveryResponse(d: WebhookDelivery, attempts: WebhookAttempt[]): DeliveryResponse {
  return {
    id: d.id,
    eventSeq: String(d.eventSeq),
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    completedAt: d.completedAt?.toISOString() ?? null,
    attempts: attempts.map(toAttemptResponse),
  };
}

/**
 * Webhook endpoints: who may manage them (`webhooks.manage` for any; a workspace's admins for
 * endpoints scoped to it), their URLs (SSRF rules), event filters and secrets; the delivery log.
 */
@Injectable()
@DeclaresPermissions([
  {
    name: WEBHOOKS_MANAGE,
    description: 'Manage every webhook endpoint, server-wide or of any workspace',
    scope: 'server',
  },
])
export class WebhooksService {
  constructor(
    private readonly db: Database,
    private readonly config: AppConfig,
    private readonly repo: WebhooksRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly access: AccessService,
    private readonly audit: AuditService,
    private readonly box: SecretBox,
    private readonly worker: WebhookWorker,
  ) {}

  async create(
    p: Principal,
    input: { url: string; events: string[]; workspace?: string; description?: string },
  ): Promise<WebhookResponse & { secret: string }> {
    let workspaceId: string | null = null;
    if (input.workspace !== undefined) {
      workspaceId = (await this.access.workspace(p, { domain: input.workspace }, 'admin')).workspace
        .id;
    } else if (!can(p, WEBHOOKS_MANAGE)) {
      throw AppException.forbidden(
        `A server-wide webhook needs ${WEBHOOKS_MANAGE}; a workspace admin names the workspace.`,
      );
    }
    const url = await this.checkUrl(input.url);
    const events = validateEventFilters(input.events);
    const secret = generateSecret();
    const now = new Date();
    const e = new WebhookEndpoint();
    e.id = newId();
    e.url = url;
    e.events = events;
    e.workspaceId = workspaceId;
    e.description = input.description?.trim() || null;
    e.enabled = true;
    const sealed = this.box.seal(secret, secretAad(e.id));
    e.secretKeyId = sealed.keyId;
    e.secretCiphertext = sealed.ciphertext;
    e.previousSecretKeyId = null;
    e.previousSecretCiphertext = null;
    e.previousSecretUntil = null;
    e.createdBy = p.userId;
    e.createdAt = now;
    e.updatedAt = now;
    e.version = 1;
    await this.db.transaction(async (tx) => {
      await this.repo.insert(tx, e);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'webhook.create',
        targetType: 'webhook',
        targetId: e.id,
        changes: { url, events, workspaceId, description: e.description },
      });
    });
    return { ...toWebhookResponse(e, now), secret };
  }

  async list(
    p: Principal,
    workspace: string | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<WebhookResponse>> {
    const before = decodeCursor(cursor, 1)?.[0];
    let filter: { workspaceId?: string } = {};
    if (workspace !== undefined) {
      filter = {
        workspaceId: (await this.access.workspace(p, { domain: workspace }, 'admin')).workspace.id,
      };
    } else if (!can(p, WEBHOOKS_MANAGE)) {
      throw AppException.forbidden(
        `Listing every webhook needs ${WEBHOOKS_MANAGE}; a workspace admin passes ?workspace=.`,
      );
    }
    const rows = await this.repo.list(
      filter,
      before === undefined ? null : String(before),
      limit + 1,
    );
    return toPage(
      rows,
      limit,
      (r) => [r.id],
      (r) => toWebhookResponse(r),
    );
  }

  async get(p: Principal, id: string): Promise<WebhookResponse> {
    return toWebhookResponse(await this.visible(p, id));
  }

  async update(
    p: Principal,
    id: string,
    input: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
  ): Promise<WebhookResponse> {
    await this.visible(p, id);
    const url = input.url === undefined ? undefined : await this.checkUrl(input.url);
    const events = input.events === undefined ? undefined : validateEventFilters(input.events);
    const description =
      input.description === undefined ? undefined : input.description?.trim() || null;
    return this.db.transaction(async (tx) => {
      const cur = await this.repo.findById(id, tx, true);
      if (!cur) throw AppException.notFound('Webhook');
      const now = new Date();
      const changes: EndpointChanges = { updatedAt: now };
      const audit: Record<string, unknown> = { workspaceId: cur.workspaceId };
      if (url !== undefined && url !== cur.url) {
        changes.url = url;
        audit.url = { from: cur.url, to: url };
      }
      if (events !== undefined && JSON.stringify(events) !== JSON.stringify(cur.events)) {
        changes.events = events;
        audit.events = { from: cur.events, to: events };
      }
      if (description !== undefined && description !== cur.description) {
        changes.description = description;
        audit.description = { from: cur.description, to: description };
      }
      if (input.enabled !== undefined && input.enabled !== cur.enabled) {
        changes.enabled = input.enabled;
        audit.enabled = { from: cur.enabled, to: input.enabled };
      }
      if (Object.keys(changes).length > 1) {
        await this.repo.update(tx, id, changes);
        await this.audit.record(tx, {
          actorId: p.userId,
          action: 'webhook.update',
          targetType: 'webhook',
          targetId: id,
          changes: audit,
        });
      }
      const after = await this.repo.findById(id, tx);
      if (!after) throw AppException.notFound('Webhook');
      return toWebhookResponse(after, now);
    });
  }

  async remove(p: Principal, id: string): Promise<void> {
    const e = await this.visible(p, id);
    await this.db.transaction(async (tx) => {
      if (!(await this.repo.delete(tx, id))) throw AppException.notFound('Webhook');
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'webhook.delete',
        targetType: 'webhook',
        targetId: id,
        changes: { url: e.url, workspaceId: e.workspaceId },
      });
    });
  }

  /** A new secret; the current one becomes the previous one and keeps signing for the overlap. */
  async rotateSecret(p: Principal, id: string): Promise<WebhookSecretResponse> {
    await this.visible(p, id);
    const secret = generateSecret();
    const sealed = this.box.seal(secret, secretAad(id));
    const now = new Date();
    const until = new Date(now.getTime() + SECRET_OVERLAP_MS);
    await this.db.transaction(async (tx) => {
      const cur = await this.repo.findById(id, tx, true);
      const old = cur ? await this.repo.secretsOf(id, tx) : null;
      if (!cur || !old) throw AppException.notFound('Webhook');
      await this.repo.update(tx, id, {
        secretKeyId: sealed.keyId,
        secretCiphertext: sealed.ciphertext,
        previousSecretKeyId: old.current.keyId,
        previousSecretCiphertext: old.current.ciphertext,
        previousSecretUntil: until,
        updatedAt: now,
      });
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'webhook.secret_rotate',
        targetType: 'webhook',
        targetId: id,
        changes: { workspaceId: cur.workspaceId, previousValidUntil: until.toISOString() },
      });
    });
    return { id, secret, previousSecretExpiresAt: until.toISOString() };
  }

  async listDeliveries(
    p: Principal,
    id: string,
    status: DeliveryStatus | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<DeliveryResponse>> {
    await this.visible(p, id);
    const before = decodeCursor(cursor, 1)?.[0];
    const rows = await this.deliveries.list(
      id,
      status,
      before === undefined ? null : String(before),
      limit + 1,
    );
    const shown = rows.slice(0, limit);
    const attempts = await this.deliveries.attemptsOf(shown.map((d) => d.id));
    return toPage(
      rows,
      limit,
      (d) => [d.id],
      (d) =>
        toDeliveryResponse(
          d,
          attempts.filter((a) => a.deliveryId === d.id),
        ),
    );
  }

  /** Sends the delivery again now (a failed, succeeded or waiting one), retrying for another 24 h. */
  async retryDelivery(p: Principal, id: string, deliveryId: string): Promise<DeliveryResponse> {
    const e = await this.visible(p, id);
    const now = new Date();
    const d = await this.db.transaction(async (tx) => {
      const cur = await this.deliveries.findForEndpoint(id, deliveryId, tx);
      if (!cur) throw AppException.notFound('Delivery');
      const giveUpAt = new Date(now.getTime() + RETRY_WINDOW_MS);
      if (!(await this.deliveries.requeue(tx, deliveryId, now, giveUpAt)))
        throw AppException.conflict('The delivery is being sent right now; try again shortly.');
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'webhook.delivery_retry',
        targetType: 'webhook',
        targetId: id,
        changes: {
          deliveryId,
          eventSeq: String(cur.eventSeq),
          previousStatus: cur.status,
          workspaceId: e.workspaceId,
        },
      });
      const after = await this.deliveries.findForEndpoint(id, deliveryId, tx);
      if (!after) throw AppException.notFound('Delivery');
      return after;
    });
    this.worker.wake();
    return toDeliveryResponse(d, await this.deliveries.attemptsOf([d.id]));
  }

  /** The endpoint, when the caller may manage it; 404 otherwise (existence never leaks). */
  private async visible(p: Principal, id: string, tx?: Tx): Promise<WebhookEndpoint> {
    const e = await this.repo.findById(id, tx);
    if (!e) throw AppException.notFound('Webhook');
    if (can(p, WEBHOOKS_MANAGE)) return e;
    if (e.workspaceId === null) throw AppException.notFound('Webhook');
    try {
      await this.access.workspace(p, { id: e.workspaceId }, 'admin', tx ? { tx } : {});
    } catch {
      throw AppException.notFound('Webhook');
    }
    return e;
  }

  private async checkUrl(raw: string): Promise<string> {
    const url = raw.trim();
    const allowPrivate = this.config.webhookAllowPrivate;
    const problem = urlProblem(url, allowPrivate);
    if (problem) throw AppException.invalid('url', problem);
    if (!allowPrivate) {
      try {
        await resolveAllowed(new URL(url), allowPrivate);
      } catch (err) {
        if (err instanceof TargetRefused) throw AppException.invalid('url', err.message);
        throw err;
      }
    }
    return url;
  }
}
