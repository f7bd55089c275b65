import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { ExternalCredential } from '#src/credentials/entities/external-credential.entity.js';

@Injectable()
export class ExternalCredentialsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(ExternalCredential);
  }

  findForUser(userId: string, service: string, tx?: Tx): Promise<ExternalCredential | null> {
    return this.repo(tx).findOne({ where: { userId, service } });
  }

  /** A user's stored credentials in service order (a handful per user). */
  listForUser(userId: string): Promise<ExternalCredential[]> {
    return this.repo().find({ where: { userId }, order: { service: 'ASC' } });
  }

  async insert(tx: Tx, row: ExternalCredential): Promise<void> {
    await tx.getRepository(ExternalCredential).insert(asRow(row));
  }

  async update(
    tx: Tx,
    id: string,
    changes: Partial<Omit<ExternalCredential, 'user'>>,
  ): Promise<void> {
    await tx.getRepository(ExternalCredential).update({ id }, changes);
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(ExternalCredential).delete({ id });
  }
}
