import { Injectable } from '@nestjs/common';
import { DataSource, LessThan } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { AccessTokenRevocation } from '#src/credentials/entities/access-token-revocation.entity.js';

@Injectable()
export class AccessTokenRevocationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.dataSource.getRepository(AccessTokenRevocation).countBy({ jti })) > 0;
  }

  async insert(tx: Tx, row: AccessTokenRevocation): Promise<void> {
    await tx.getRepository(AccessTokenRevocation).upsert(asRow(row), ['jti']);
  }

  async deleteExpired(tx: Tx, now: Date): Promise<void> {
    await tx.getRepository(AccessTokenRevocation).delete({ expiresAt: LessThan(now) });
  }
}
