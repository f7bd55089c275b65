import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { AuditEntry, AuditHead } from '#src/audit/audit-entry.entity.js';
import { forUpdate } from '#src/database/locks.js';

/** Filters of the audit log routes; each one present narrows the rows (AND). */
export interface AuditFilter {
  actorId?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
  since?: Date;
  until?: Date;
}

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

  /** The log, filtered, newest first (keyset on seq). */
  listFiltered(f: AuditFilter, beforeSeq: string | null, limit: number): Promise<AuditEntry[]> {
    const qb = this.filtered(f);
    if (beforeSeq !== null) qb.andWhere('a.seq < :beforeSeq', { beforeSeq });
    return qb.orderBy('a.seq', 'DESC').limit(limit).getMany();
  }

  /** The log, filtered, oldest first from after `afterSeq`: one batch of an export. */
  exportBatch(f: AuditFilter, afterSeq: string, limit: number): Promise<AuditEntry[]> {
    return this.filtered(f)
      .andWhere('a.seq > :afterSeq', { afterSeq })
      .orderBy('a.seq', 'ASC')
      .limit(limit)
      .getMany();
  }

  private filtered(f: AuditFilter) {
    const qb = this.dataSource.getRepository(AuditEntry).createQueryBuilder('a').where('1 = 1');
    if (f.actorId !== undefined) qb.andWhere('a.actorId = :actorId', { actorId: f.actorId });
    if (f.targetType !== undefined)
      qb.andWhere('a.targetType = :targetType', { targetType: f.targetType });
    if (f.targetId !== undefined) qb.andWhere('a.targetId = :targetId', { targetId: f.targetId });
    if (f.action !== undefined) qb.andWhere('a.action = :action', { action: f.action });
    if (f.since !== undefined) qb.andWhere('a.at >= :since', { since: f.since });
    if (f.until !== undefined) qb.andWhere('a.at < :until', { until: f.until });
    return qb;
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
