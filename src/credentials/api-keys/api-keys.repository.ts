import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { User } from '#src/users/user.entity.js';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, key: ApiKey): Promise<void> {
    await tx.getRepository(ApiKey).insert(asRow(key));
  }

  /** The hot path: one indexed lookup by hash, with the owner. Revoked keys too (to audit their use). */
  async findByHash(keyHash: string): Promise<{ key: ApiKey; user: User } | null> {
    const key = await this.dataSource
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .innerJoinAndMapOne('k.user', User, 'u', 'u.id = k.userId')
      .where('k.keyHash = :keyHash', { keyHash })
      .getOne();
    if (!key?.user) return null;
    return { key, user: key.user };
  }

  findLiveForUser(userId: string, id: string, tx?: Tx): Promise<ApiKey | null> {
    return (tx ?? this.dataSource.manager)
      .getRepository(ApiKey)
      .findOne({ where: { id, userId, revokedAt: IsNull() } });
  }

  listForUser(userId: string, after: [string, string] | null, limit: number): Promise<ApiKey[]> {
    const qb = this.dataSource
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .where('k.userId = :userId AND k.revokedAt IS NULL', { userId });
    if (after)
      qb.andWhere('(k.createdAt < :c OR (k.createdAt = :c AND k.id < :i))', {
        c: new Date(after[0]),
        i: after[1],
      });
    return qb.orderBy('k.createdAt', 'DESC').addOrderBy('k.id', 'DESC').limit(limit).getMany();
  }

  /** Records use at most once a minute per key (a conditional update, so instances do not pile up). */
  async touch(tx: Tx, id: string, at: Date, notSince: Date): Promise<void> {
    await tx
      .getRepository(ApiKey)
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: at })
      .where('id = :id AND (last_used_at IS NULL OR last_used_at < :notSince)', { id, notSince })
      // Not a principal change: cached key lookups stay (see PrincipalChangesRepository).
      .callListeners(false)
      .execute();
  }

  async revoke(tx: Tx, id: string, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(ApiKey)
      .update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return (res.affected ?? 0) > 0;
  }

  async revokeAllForUser(tx: Tx, userId: string, at: Date): Promise<string[]> {
    const ids = (
      await tx
        .getRepository(ApiKey)
        .createQueryBuilder('k')
        .select('k.id', 'id')
        .where('k.userId = :userId AND k.revokedAt IS NULL', { userId })
        .getRawMany<{ id: string }>()
    ).map((r) => r.id);
    if (ids.length)
      await tx
        .getRepository(ApiKey)
        .createQueryBuilder()
        .update()
        .set({ revokedAt: at })
        .whereInIds(ids)
        .execute();
    return ids;
  }
}
