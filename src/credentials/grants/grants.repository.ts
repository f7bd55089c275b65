import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { User } from '#src/users/user.entity.js';
import { Grant } from '#src/credentials/entities/grant.entity.js';
import { RefreshToken } from '#src/credentials/entities/refresh-token.entity.js';

@Injectable()
export class GrantsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, grant: Grant): Promise<void> {
    await tx.getRepository(Grant).insert(asRow(grant));
  }

  async insertRefreshToken(tx: Tx, token: RefreshToken): Promise<void> {
    await tx.getRepository(RefreshToken).insert(asRow(token));
  }

  findById(id: string, tx?: Tx): Promise<Grant | null> {
    return (tx ?? this.dataSource.manager).getRepository(Grant).findOne({ where: { id } });
  }

  findLiveForUser(userId: string, id: string, tx?: Tx): Promise<Grant | null> {
    return (tx ?? this.dataSource.manager)
      .getRepository(Grant)
      .findOne({ where: { id, userId, revokedAt: IsNull() } });
  }

  /** A refresh token by hash, with its grant and the grant's owner. */
  async findRefreshToken(
    tx: Tx,
    tokenHash: string,
  ): Promise<{ token: RefreshToken; grant: Grant; user: User } | null> {
    const token = await tx
      .getRepository(RefreshToken)
      .createQueryBuilder('t')
      .innerJoinAndMapOne('t.grant', Grant, 'g', 'g.id = t.grantId')
      .where('t.tokenHash = :tokenHash', { tokenHash })
      .getOne();
    if (!token?.grant) return null;
    const user = await tx.getRepository(User).findOne({ where: { id: token.grant.userId } });
    if (!user) return null;
    return { token, grant: token.grant, user };
  }

  /**
   * The atomic consume: only the first of any number of concurrent callers flips consumed_at
   * (a conditional UPDATE; on MySQL the row lock makes the others re-read and match nothing).
   */
  async consumeRefreshToken(tx: Tx, id: string, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(RefreshToken)
      .createQueryBuilder()
      .update()
      .set({ consumedAt: at })
      .where('id = :id AND consumed_at IS NULL', { id })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  async markUsed(tx: Tx, id: string, at: Date): Promise<void> {
    await tx.getRepository(Grant).update({ id }, { lastUsedAt: at });
  }

  listForUser(userId: string, after: [string, string] | null, limit: number): Promise<Grant[]> {
    const qb = this.dataSource
      .getRepository(Grant)
      .createQueryBuilder('g')
      .where('g.userId = :userId AND g.revokedAt IS NULL', { userId });
    if (after)
      qb.andWhere('(g.createdAt < :c OR (g.createdAt = :c AND g.id < :i))', {
        c: new Date(after[0]),
        i: after[1],
      });
    return qb.orderBy('g.createdAt', 'DESC').addOrderBy('g.id', 'DESC').limit(limit).getMany();
  }

  async revoke(tx: Tx, id: string, at: Date, reason: string): Promise<boolean> {
    const res = await tx
      .getRepository(Grant)
      .update({ id, revokedAt: IsNull() }, { revokedAt: at, revokedReason: reason });
    return (res.affected ?? 0) > 0;
  }

  async revokeAllForUser(tx: Tx, userId: string, at: Date, reason: string): Promise<string[]> {
    const ids = (
      await tx
        .getRepository(Grant)
        .createQueryBuilder('g')
        .select('g.id', 'id')
        .where('g.userId = :userId AND g.revokedAt IS NULL', { userId })
        .getRawMany<{ id: string }>()
    ).map((r) => r.id);
    if (ids.length)
      await tx
        .getRepository(Grant)
        .createQueryBuilder()
        .update()
        .set({ revokedAt: at, revokedReason: reason })
        .whereInIds(ids)
        .execute();
    return ids;
  }
}
