import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { forUpdate } from '#src/database/locks.js';
import { WebhookEndpoint } from '#src/webhooks/entities/webhook-endpoint.entity.js';
import { matchesFilters } from '#src/webhooks/webhook-events.js';

export interface EndpointSecrets {
  current: { keyId: string; ciphertext: string };
  previous: { keyId: string; ciphertext: string; until: Date } | null;
}

export type EndpointChanges = Partial<
  Pick<
    WebhookEndpoint,
    | 'url'
    | 'events'
    | 'description'
    | 'enabled'
    | 'secretKeyId'
    | 'secretCiphertext'
    | 'previousSecretKeyId'
    | 'previousSecretCiphertext'
    | 'previousSecretUntil'
    | 'updatedAt'
  >
>;

/** Webhook endpoints. The sealed secrets are read only by `secretsOf`. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(WebhookEndpoint);
  }

  async insert(tx: Tx, e: WebhookEndpoint): Promise<void> {
    await this.m(tx).insert(asRow(e));
  }

  findById(id: string, tx?: Tx, lock = false): Promise<WebhookEndpoint | null> {
    const qb = this.m(tx).createQueryBuilder('e').where('e.id = :id', { id });
    return lock && tx ? forUpdate(tx, qb).getOne() : qb.getOne();
  }

  async secretsOf(id: string, tx?: Tx): Promise<EndpointSecrets | null> {
    const e = await this.m(tx)
      .createQueryBuilder('e')
      .select('e.id')
      .addSelect([
        'e.secretKeyId',
        'e.secretCiphertext',
        'e.previousSecretKeyId',
        'e.previousSecretCiphertext',
        'e.previousSecretUntil',
      ])
      .where('e.id = :id', { id })
      .getOne();
    if (!e) return null;
    return {
      current: { keyId: e.secretKeyId, ciphertext: e.secretCiphertext },
      previous:
        e.previousSecretKeyId && e.previousSecretCiphertext && e.previousSecretUntil
          ? {
              keyId: e.previousSecretKeyId,
              ciphertext: e.previousSecretCiphertext,
              until: e.previousSecretUntil,
            }
          : null,
    };
  }

  /** Newest first, keyset on the (time-ordered) id; `workspaceId` undefined: every endpoint. */
  list(
    filter: { workspaceId?: string },
    beforeId: string | null,
    limit: number,
  ): Promise<WebhookEndpoint[]> {
    const qb = this.m().createQueryBuilder('e');
    if (filter.workspaceId !== undefined)
      qb.where('e.workspaceId = :ws', { ws: filter.workspaceId });
    if (beforeId !== null) qb.andWhere('e.id < :beforeId', { beforeId });
    return qb.orderBy('e.id', 'DESC').limit(limit).getMany();
  }

  /** Whether an enabled endpoint's filters take `action` (read in the change's transaction). */
  async anyEnabledFor(tx: Tx, action: string): Promise<boolean> {
    return (await this.enabled(tx)).some((e) => matchesFilters(e.events, action));
  }

  /** What the fan-out needs of every enabled endpoint. */
  enabled(tx: Tx): Promise<WebhookEndpoint[]> {
    return this.m(tx)
      .createQueryBuilder('e')
      .select(['e.id', 'e.events', 'e.workspaceId'])
      .where('e.enabled = :on', { on: true })
      .getMany();
  }

  async update(tx: Tx, id: string, changes: EndpointChanges): Promise<void> {
    await this.m(tx)
      .createQueryBuilder()
      .update()
      .set({ ...changes, version: () => 'version + 1' })
      .where('id = :id', { id })
      .execute();
  }

  async delete(tx: Tx, id: string): Promise<boolean> {
    const res = await this.m(tx).delete({ id });
    return (res.affected ?? 0) > 0;
  }
}
