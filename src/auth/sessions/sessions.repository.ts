import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';

@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, session: Session): Promise<void> {
    // Every column is set here: without updateEntity(false) TypeORM reads the new row back for
    // the columns that have database defaults, one more statement on every sign-in.
    await tx
      .createQueryBuilder()
      .insert()
      .into(Session)
      .values(asRow(session))
      .updateEntity(false)
      .execute();
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
