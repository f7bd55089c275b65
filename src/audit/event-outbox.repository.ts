import { Injectable } from '@nestjs/common';
import {
  DataSource,
  type EntitySubscriberInterface,
  type InsertEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { EventOutboxRow } from '#src/audit/event-outbox.entity.js';

/**
 * The outbox side of the audit log. `AuditService.record` adds a row in the change's transaction;
 * a consumer (the webhook worker) takes rows in its own transaction: each row is deleted by the one
 * transaction that wins it (a row lock on MySQL, a certification conflict on Galera, the single
 * writer on SQLite), so two instances never both take the same event.
 */
@Injectable()
export class EventOutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Calls `listener` after each commit (in this process) of a transaction that wrote an event. */
  onCommitted(listener: () => void): void {
    this.dataSource.subscribers.push(new OutboxCommitSubscriber(listener));
  }

  async add(tx: Tx, row: EventOutboxRow): Promise<void> {
    await tx.getRepository(EventOutboxRow).insert(row);
  }

  /** Whether any row waits (a cheap check outside any transaction). */
  async pending(): Promise<boolean> {
    const row = await this.dataSource
      .getRepository(EventOutboxRow)
      .createQueryBuilder('o')
      .select('o.seq')
      .orderBy('o.seq', 'ASC')
      .limit(1)
      .getOne();
    return row !== null;
  }

  /** The oldest rows (up to `limit`) this transaction won; their deletion commits with it. */
  async take(tx: Tx, limit: number): Promise<EventOutboxRow[]> {
    const rows = await tx
      .getRepository(EventOutboxRow)
      .createQueryBuilder('o')
      .orderBy('o.seq', 'ASC')
      .limit(limit)
      .getMany();
    const won: EventOutboxRow[] = [];
    for (const row of rows) {
      // Bound as a string: TypeORM's SQLite driver writes a number parameter into the SQL text, so
      // each row would prepare a new statement and push a reused one out of the statement cache.
      const seq = String(row.seq);
      const res = await tx
        .getRepository(EventOutboxRow)
        .createQueryBuilder()
        .delete()
        .where('seq = :seq', { seq })
        .execute();
      if ((res.affected ?? 0) > 0) won.push({ ...row, seq });
    }
    return won;
  }

  async redactTarget(tx: Tx, targetType: string, targetId: string, changes: string): Promise<void> {
    await tx
      .getRepository(EventOutboxRow)
      .createQueryBuilder()
      .update()
      .set({ changes })
      .where('targetType = :targetType AND targetId = :targetId', { targetType, targetId })
      .execute();
  }
}

const WROTE_EVENT = 'eventOutboxWritten';

class OutboxCommitSubscriber implements EntitySubscriberInterface {
  constructor(private readonly listener: () => void) {}

  afterInsert(event: InsertEvent<unknown>): void {
    if (event.metadata.target !== EventOutboxRow) return;
    if (event.queryRunner.isTransactionActive)
      (event.queryRunner.data as Record<string, unknown>)[WROTE_EVENT] = true;
    else this.listener();
  }
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown>;
    if (data[WROTE_EVENT]) {
      delete data[WROTE_EVENT];
      this.listener();
    }
  }
  afterTransactionRollback(event: TransactionRollbackEvent): void {
    delete (event.queryRunner.data as Record<string, unknown>)[WROTE_EVENT];
  }
}
