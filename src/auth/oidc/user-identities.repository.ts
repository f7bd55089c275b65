import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';

@Injectable()
export class UserIdentitiesRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(UserIdentity);
  }

  findByIssuerSubject(issuer: string, subject: string, tx?: Tx): Promise<UserIdentity | null> {
    return this.repo(tx).findOne({ where: { issuer, subject } });
  }

  findByUserAndIssuer(userId: string, issuer: string, tx?: Tx): Promise<UserIdentity | null> {
    return this.repo(tx).findOne({ where: { userId, issuer } });
  }

  listForUser(userId: string, tx?: Tx): Promise<UserIdentity[]> {
    return this.repo(tx).find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  async insert(tx: Tx, identity: UserIdentity): Promise<void> {
    await tx.getRepository(UserIdentity).insert(asRow(identity));
  }

  async touch(id: string, at: Date, tx?: Tx): Promise<void> {
    await this.repo(tx).update({ id }, { lastUsedAt: at });
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(UserIdentity).delete({ id });
  }
}
