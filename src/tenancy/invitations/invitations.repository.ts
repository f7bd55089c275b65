import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { forUpdate } from '#src/database/locks.js';
import { Invitation, type InvitationStatus } from '#src/tenancy/entities/invitation.entity.js';

@Injectable()
export class InvitationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, inv: Invitation): Promise<void> {
    await tx.getRepository(Invitation).insert(asRow(inv));
  }

  pendingFor(tx: Tx, workspaceId: string, emailNormalized: string): Promise<Invitation[]> {
    return tx
      .getRepository(Invitation)
      .find({ where: { workspaceId, emailNormalized, status: 'pending' } });
  }

  findPending(tx: Tx, id: string, workspaceId: string): Promise<Invitation | null> {
    return tx.getRepository(Invitation).findOne({ where: { id, workspaceId, status: 'pending' } });
  }

  /** Moves a pending invitation to its decision; false when it was no longer pending. */
  async decide(
    tx: Tx,
    id: string,
    status: Exclude<InvitationStatus, 'pending'>,
    by: string | null,
  ): Promise<boolean> {
    const res = await tx
      .getRepository(Invitation)
      .update({ id, status: 'pending' }, { status, decidedAt: new Date(), decidedBy: by });
    return (res.affected ?? 0) > 0;
  }

  /** By token hash; with `tx` the row is read with a lock (MySQL). */
  findByTokenHash(tokenHash: string, tx?: Tx): Promise<Invitation | null> {
    const m = tx ?? this.dataSource.manager;
    const qb = m
      .getRepository(Invitation)
      .createQueryBuilder('i')
      .where('i.tokenHash = :h', { h: tokenHash });
    return (tx ? forUpdate(tx, qb) : qb).getOne();
  }

  /** Pending, unexpired invitations of a workspace, keyset by id. */
  listPending(workspaceId: string, after: string | null, limit: number): Promise<Invitation[]> {
    const qb = this.dataSource
      .getRepository(Invitation)
      .createQueryBuilder('i')
      .where("i.workspaceId = :ws AND i.status = 'pending' AND i.expiresAt > :now", {
        ws: workspaceId,
        now: new Date(),
      })
      .orderBy('i.id', 'ASC')
      .take(limit);
    if (after !== null) qb.andWhere('i.id > :after', { after });
    return qb.getMany();
  }
}
