import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { ScimToken } from '#src/scim/scim-token.entity.js';

@Injectable()
export class ScimTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, t: ScimToken): Promise<void> {
    await tx.getRepository(ScimToken).insert(asRow(t));
  }

  findByHash(hash: string): Promise<ScimToken | null> {
    return this.dataSource.getRepository(ScimToken).findOne({ where: { tokenHash: hash } });
  }

  findInWorkspace(tx: Tx, workspaceId: string, id: string): Promise<ScimToken | null> {
    return tx.getRepository(ScimToken).findOne({ where: { id, workspaceId } });
  }

  /** Tokens of a workspace, keyset by id (ids are time-ordered). */
  list(workspaceId: string, after: string | null, limit: number): Promise<ScimToken[]> {
    const qb = this.dataSource
      .getRepository(ScimToken)
      .createQueryBuilder('t')
      .where('t.workspaceId = :workspaceId', { workspaceId });
    if (after !== null) qb.andWhere('t.id > :after', { after });
    return qb.orderBy('t.id', 'ASC').limit(limit).getMany();
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(ScimToken).delete({ id });
  }

  /** Best effort and outside any transaction: a busy token must not serialise on its row. */
  async touch(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(ScimToken).update({ id }, { lastUsedAt: at });
  }
}
