import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, LessThan } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { SigningKey } from '#src/credentials/entities/signing-key.entity.js';

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every key still published: not retired, or retired after `retiredSince`. Newest first. */
  listPublished(retiredSince: Date, tx?: Tx): Promise<SigningKey[]> {
    return (tx ?? this.dataSource.manager)
      .getRepository(SigningKey)
      .createQueryBuilder('k')
      .where('k.retiredAt IS NULL OR k.retiredAt > :since', { since: retiredSince })
      .orderBy('k.createdAt', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .getMany();
  }

  async insert(tx: Tx, key: SigningKey): Promise<void> {
    await tx.getRepository(SigningKey).insert(asRow(key));
  }

  async retireActive(tx: Tx, at: Date): Promise<number> {
    const res = await tx
      .getRepository(SigningKey)
      .update({ retiredAt: IsNull() }, { retiredAt: at });
    return res.affected ?? 0;
  }

  /** Deletes keys retired before `before` (their tokens expired long ago). */
  async deleteRetiredBefore(tx: Tx, before: Date): Promise<void> {
    await tx.getRepository(SigningKey).delete({ retiredAt: LessThan(before) });
  }
}
