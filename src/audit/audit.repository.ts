import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { AuditEntry, AuditHead } from '#src/audit/audit-entry.entity.js';
import { forUpdate } from '#src/database/locks.js';

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  async readHead(): Promise<AuditHead> {
    const head = await this.dataSource.getRepository(AuditHead).findOne({ where: { id: 1 } });
    if (!head) throw new Error('audit_head row missing: migrations not run');
    return head;
  }

  async lockHead(tx: Tx): Promise<AuditHead> {
    const qb = tx.getRepository(AuditHead).createQueryBuilder('h').where('h.id = 1');
    const head = await forUpdate(tx, qb).getOne();
    if (!head) throw new Error('audit_head row missing: migrations not run');
    return head;
  }

  async append(tx: Tx, entry: AuditEntry): Promise<void> {
    await tx.getRepository(AuditEntry).insert(entry);
    await tx
      .getRepository(AuditHead)
      .update({ id: 1 }, { lastSeq: entry.seq, lastHash: entry.hash });
  }

  listByTarget(
    targetType: string,
    targetId: string,
    beforeSeq: string | null,
    limit: number,
  ): Promise<AuditEntry[]> {
    const qb = this.dataSource
      .getRepository(AuditEntry)
      .createQueryBuilder('a')
      .where('a.targetType = :targetType AND a.targetId = :targetId', { targetType, targetId });
    if (beforeSeq !== null) qb.andWhere('a.seq < :beforeSeq', { beforeSeq });
    return qb.orderBy('a.seq', 'DESC').limit(limit).getMany();
  }

  listByActor(actorId: string, beforeSeq: string | null, limit: number): Promise<AuditEntry[]> {
    const qb = this.dataSource
      .getRepository(AuditEntry)
      .createQueryBuilder('a')
      .where('a.actorId = :actorId', { actorId });
    if (beforeSeq !== null) qb.andWhere('a.seq < :beforeSeq', { beforeSeq });
    return qb.orderBy('a.seq', 'DESC').limit(limit).getMany();
  }

  /** Streams the chain in order, a batch at a time. */
  batchFrom(afterSeq: string, limit: number): Promise<AuditEntry[]> {
    return this.dataSource
      .getRepository(AuditEntry)
      .createQueryBuilder('a')
      .where('a.seq > :afterSeq', { afterSeq })
      .orderBy('a.seq', 'ASC')
      .limit(limit)
      .getMany();
  }

  async redactTarget(
    tx: Tx,
    targetType: string,
    targetId: string,
    changes: string,
    at: Date,
  ): Promise<number> {
    const res = await tx
      .getRepository(AuditEntry)
      .createQueryBuilder()
      .update()
      .set({ changes, redactedAt: at })
      .where('targetType = :targetType AND targetId = :targetId AND redactedAt IS NULL', {
        targetType,
        targetId,
      })
      .execute();
    return res.affected ?? 0;
  }
}
