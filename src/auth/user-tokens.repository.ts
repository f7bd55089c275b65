import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { UserToken, type UserTokenKind } from '#src/auth/entities/user-token.entity.js';

@Injectable()
export class UserTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, token: UserToken): Promise<void> {
    await tx.getRepository(UserToken).insert(asRow(token));
  }

  findUsable(tokenHash: string, kinds: UserTokenKind[], tx?: Tx): Promise<UserToken | null> {
    return (tx ?? this.dataSource.manager)
      .getRepository(UserToken)
      .createQueryBuilder('t')
      .where(
        't.tokenHash = :tokenHash AND t.usedAt IS NULL AND t.expiresAt > :now AND t.kind IN (:...kinds)',
        { tokenHash, now: new Date(), kinds },
      )
      .getOne();
  }

  /** A token by its hash whatever its state (used, expired), to tell a person which it is. */
  findAny(tokenHash: string, kinds: UserTokenKind[]): Promise<UserToken | null> {
    return this.dataSource
      .getRepository(UserToken)
      .createQueryBuilder('t')
      .where('t.tokenHash = :tokenHash AND t.kind IN (:...kinds)', { tokenHash, kinds })
      .getOne();
  }

  /** Marks a token used; false when another request used it first (single use under concurrency). */
  async consume(tx: Tx, id: string): Promise<boolean> {
    const res = await tx
      .getRepository(UserToken)
      .update({ id, usedAt: IsNull() }, { usedAt: new Date() });
    return (res.affected ?? 0) === 1;
  }

  async revokeAll(tx: Tx, userId: string, kind: UserTokenKind): Promise<void> {
    await tx
      .getRepository(UserToken)
      .update({ userId, kind, usedAt: IsNull() }, { usedAt: new Date() });
  }
}
