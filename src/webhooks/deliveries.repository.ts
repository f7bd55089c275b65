import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { WebhookAttempt } from '#src/webhooks/entities/webhook-attempt.entity.js';
import { WebhookEndpoint } from '#src/webhooks/entities/webhook-endpoint.entity.js';
import {
  WebhookDelivery,
  type DeliveryStatus,
} from '#src/webhooks/entities/webhook-delivery.entity.js';

export interface AttemptOutcome {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  completedAt: Date | null;
  updatedAt: Date;
}

/** Deliveries and their attempts; claims are conditional updates so only one worker wins each. */
@Injectable()
export class DeliveriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(WebhookDelivery);
  }

  async insert(tx: Tx, rows: WebhookDelivery[]): Promise<void> {
    if (rows.length) await this.m(tx).insert(rows.map((r) => asRow(r)));
  }

  /** Pending deliveries of enabled endpoints due at `now` that no live lease holds, oldest first. */
  async dueIds(now: Date, limit: number): Promise<string[]> {
    const rows = await this.m()
      .createQueryBuilder('d')
      .select(['d.id'])
      .innerJoin(WebhookEndpoint, 'e', 'e.id = d.endpointId AND e.enabled = :on', { on: true })
      .where("d.status = 'pending' AND d.nextAttemptAt <= :now", { now })
      .andWhere('(d.leaseUntil IS NULL OR d.leaseUntil < :now)', { now })
      .orderBy('d.nextAttemptAt', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((r) => r.id);
  }

  /** Takes the lease when the delivery is still due and unleased; true when this claim won. */
  async claim(tx: Tx, id: string, claim: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const res = await this.m(tx)
      .createQueryBuilder()
      .update()
      .set({ claimedBy: claim, leaseUntil })
      .where("id = :id AND status = 'pending' AND nextAttemptAt <= :now", { id, now })
      .andWhere('(leaseUntil IS NULL OR leaseUntil < :now)', { now })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  findClaimed(id: string, claim: string, tx?: Tx): Promise<WebhookDelivery | null> {
    return this.m(tx).findOne({ where: { id, claimedBy: claim } });
  }

  /** Records the attempt's outcome and ends the lease, only while `claim` still holds it. */
  async finish(tx: Tx, id: string, claim: string, outcome: AttemptOutcome): Promise<boolean> {
    const res = await this.m(tx)
      .createQueryBuilder()
      .update()
      .set({ ...outcome, claimedBy: null, leaseUntil: null })
      .where('id = :id AND claimedBy = :claim', { id, claim })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /** Gives the lease back without an attempt (shutting down before the request went out). */
  async release(tx: Tx, id: string, claim: string): Promise<void> {
    await this.m(tx)
      .createQueryBuilder()
      .update()
      .set({ claimedBy: null, leaseUntil: null })
      .where('id = :id AND claimedBy = :claim', { id, claim })
      .execute();
  }

  async addAttempt(tx: Tx, a: WebhookAttempt): Promise<void> {
    await tx.getRepository(WebhookAttempt).insert(asRow(a));
  }

  /** An endpoint's deliveries, newest first, keyset on the (time-ordered) id. */
  list(
    endpointId: string,
    status: DeliveryStatus | undefined,
    beforeId: string | null,
    limit: number,
  ): Promise<WebhookDelivery[]> {
    const qb = this.m()
      .createQueryBuilder('d')
      .select([
        'd.id',
        'd.endpointId',
        'd.eventSeq',
        'd.eventType',
        'd.status',
        'd.attempts',
        'd.nextAttemptAt',
        'd.giveUpAt',
        'd.lastStatusCode',
        'd.lastError',
        'd.createdAt',
        'd.updatedAt',
        'd.completedAt',
      ])
      .where('d.endpointId = :endpointId', { endpointId });
    if (status) qb.andWhere('d.status = :status', { status });
    if (beforeId !== null) qb.andWhere('d.id < :beforeId', { beforeId });
    return qb.orderBy('d.id', 'DESC').limit(limit).getMany();
  }

  attemptsOf(deliveryIds: string[]): Promise<WebhookAttempt[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return this.dataSource
      .getRepository(WebhookAttempt)
      .find({ where: { deliveryId: In(deliveryIds) }, order: { attempt: 'ASC' } });
  }

  findForEndpoint(endpointId: string, id: string, tx?: Tx): Promise<WebhookDelivery | null> {
    return this.m(tx).findOne({ where: { id, endpointId } });
  }

  /** Due again at `now`, whatever its status, unless a worker holds it right now. */
  async requeue(tx: Tx, id: string, now: Date, giveUpAt: Date): Promise<boolean> {
    const res = await this.m(tx)
      .createQueryBuilder()
      .update()
      .set({ status: 'pending', nextAttemptAt: now, giveUpAt, completedAt: null, updatedAt: now })
      .where('id = :id', { id })
      .andWhere('(leaseUntil IS NULL OR leaseUntil < :now)', { now })
      .execute();
    return (res.affected ?? 0) > 0;
  }
}
