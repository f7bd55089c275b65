import { Injectable } from '@nestjs/common';
import {
  DataSource,
  IsNull,
  type EntitySubscriberInterface,
  type InsertEvent,
  type QueryRunner,
  type RemoveEvent,
  type TransactionCommitEvent,
  type UpdateEvent,
} from 'typeorm';
import type { Tx } from '../../database/database.service.js';
import { asRow } from '../../database/columns.js';
import { User } from '../../users/user.entity.js';
import { Session } from '../entities/session.entity.js';

/** Tables whose rows make up a principal (status, server role, named roles and their permissions). */
const PRINCIPAL_TABLES = new Set(['users', 'roles', 'user_roles']);
const CHANGED = 'principalDataChanged';

/**
 * Calls `changed` after every committed write to the principal tables made through TypeORM (inside a
 * transaction: at commit; outside one: at once), so cached principals never outlive a role change.
 */
class PrincipalChangeSubscriber implements EntitySubscriberInterface {
  constructor(private readonly changed: () => void) {}

  private mark(event: { metadata?: { tableName: string }; queryRunner: QueryRunner }): void {
    if (!event.metadata || !PRINCIPAL_TABLES.has(event.metadata.tableName)) return;
    this.changed();
    if (event.queryRunner.isTransactionActive) event.queryRunner.data[CHANGED] = true;
  }

  afterInsert(event: InsertEvent<unknown>): void {
    this.mark(event);
  }
  afterUpdate(event: UpdateEvent<unknown>): void {
    this.mark(event);
  }
  afterRemove(event: RemoveEvent<unknown>): void {
    this.mark(event);
  }
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown>;
    if (data[CHANGED]) {
      delete data[CHANGED];
      this.changed();
    }
  }
  afterTransactionRollback(event: TransactionCommitEvent): void {
    delete (event.queryRunner.data as Record<string, unknown>)[CHANGED];
  }
}

@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Registers a callback for committed changes to users, roles and role assignments. */
  onPrincipalDataChanged(changed: () => void): void {
    this.dataSource.subscribers.push(new PrincipalChangeSubscriber(changed));
  }

  async insert(tx: Tx, session: Session): Promise<void> {
    await tx.getRepository(Session).insert(asRow(session));
  }

  /** The hot path: one indexed lookup by token hash, with its user. */
  async findActiveByHash(tokenHash: string): Promise<{ session: Session; user: User } | null> {
    const session = await this.dataSource
      .getRepository(Session)
      .createQueryBuilder('s')
      .innerJoinAndMapOne('s.user', User, 'u', 'u.id = s.userId')
      .where('s.tokenHash = :tokenHash AND s.revokedAt IS NULL', { tokenHash })
      .getOne();
    if (!session?.user) return null;
    return { session, user: session.user };
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(Session).update({ id }, { lastSeenAt: at });
  }

  findForUser(userId: string, id: string): Promise<Session | null> {
    return this.dataSource
      .getRepository(Session)
      .findOne({ where: { id, userId, revokedAt: IsNull() } });
  }

  listForUser(userId: string, after: [string, string] | null, limit: number): Promise<Session[]> {
    const qb = this.dataSource
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.userId = :userId AND s.revokedAt IS NULL AND s.expiresAt > :now', {
        userId,
        now: new Date(),
      });
    if (after)
      qb.andWhere('(s.createdAt < :c OR (s.createdAt = :c AND s.id < :i))', {
        c: new Date(after[0]),
        i: after[1],
      });
    return qb.orderBy('s.createdAt', 'DESC').addOrderBy('s.id', 'DESC').limit(limit).getMany();
  }

  async revoke(tx: Tx, id: string, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(Session)
      .update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return (res.affected ?? 0) > 0;
  }

  /** Revokes every live session of a user but `exceptId`; returns the ids revoked. */
  async revokeAllForUser(
    tx: Tx,
    userId: string,
    exceptId: string | null,
    at: Date,
  ): Promise<string[]> {
    const qb = tx
      .getRepository(Session)
      .createQueryBuilder('s')
      .select('s.id', 'id')
      .where('s.userId = :userId AND s.revokedAt IS NULL', { userId });
    if (exceptId) qb.andWhere('s.id <> :exceptId', { exceptId });
    const ids = (await qb.getRawMany<{ id: string }>()).map((r) => r.id);
    if (ids.length) {
      await tx
        .getRepository(Session)
        .createQueryBuilder()
        .update()
        .set({ revokedAt: at })
        .whereInIds(ids)
        .execute();
    }
    return ids;
  }
}
