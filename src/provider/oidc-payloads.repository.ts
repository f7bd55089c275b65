import { Injectable } from '@nestjs/common';
import { DataSource, In, LessThan } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { OidcPayload } from '#src/provider/entities/oidc-payload.entity.js';

/** The OpenID Provider's stored rows (see oidc-adapter.ts). */
@Injectable()
export class OidcPayloadsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(OidcPayload);
  }

  async upsert(row: OidcPayload): Promise<void> {
    await this.repo().upsert({ ...row }, ['model', 'id']);
  }

  findOne(
    model: string,
    where: { id?: string; userCode?: string; uid?: string },
  ): Promise<OidcPayload | null> {
    return this.repo().findOneBy({ model, ...where });
  }

  async consume(model: string, id: string, at: Date): Promise<void> {
    await this.repo().update({ model, id }, { consumedAt: at });
  }

  async deleteExpired(now: Date): Promise<void> {
    await this.repo().delete({ expiresAt: LessThan(now) });
  }

  find(tx: Tx, model: string, id: string): Promise<OidcPayload[]> {
    return this.repo(tx).findBy({ model, id });
  }

  async delete(tx: Tx, model: string, id: string): Promise<void> {
    await this.repo(tx).delete({ model, id });
  }

  findByGrant(tx: Tx, model: string, grantId: string): Promise<OidcPayload[]> {
    return this.repo(tx).findBy({ model, grantId });
  }

  async deleteByGrant(tx: Tx, model: string, grantId: string): Promise<void> {
    await this.repo(tx).delete({ model, grantId });
  }

  findByClient(tx: Tx, clientId: string): Promise<OidcPayload[]> {
    return this.repo(tx).findBy({ clientId });
  }

  /** Everything a client holds: its rows, and every row of the grants they belong to. */
  async deleteForClient(tx: Tx, clientId: string, grantIds: string[]): Promise<void> {
    if (grantIds.length) await this.repo(tx).delete({ grantId: In(grantIds) });
    if (grantIds.length) await this.repo(tx).delete({ model: 'Grant', id: In(grantIds) });
    await this.repo(tx).delete({ clientId });
  }

  /** The latest consent (grant) a person gave a client, if any. */
  latestGrant(accountId: string, clientId: string): Promise<OidcPayload | null> {
    return this.repo().findOne({
      where: { model: 'Grant', accountId, clientId },
      order: { expiresAt: 'DESC' },
    });
  }
}
