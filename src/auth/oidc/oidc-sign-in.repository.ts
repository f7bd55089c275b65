import { Injectable } from '@nestjs/common';
import { DataSource, LessThan } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { OidcLoginAttempt } from '#src/auth/oidc/oidc-login-attempt.entity.js';
import { OidcPendingLink } from '#src/auth/oidc/oidc-pending-link.entity.js';

/** Login attempts (the OIDC state store) and pending confirm-links. */
@Injectable()
export class OidcSignInRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertAttempt(tx: Tx, attempt: OidcLoginAttempt): Promise<void> {
    await tx.getRepository(OidcLoginAttempt).insert(asRow(attempt));
  }

  findAttempt(stateHash: string, tx: Tx): Promise<OidcLoginAttempt | null> {
    return tx.getRepository(OidcLoginAttempt).findOne({ where: { stateHash } });
  }

  /** Deletes the attempt; false when another request consumed it first (single use). */
  async consumeAttempt(tx: Tx, id: string): Promise<boolean> {
    const res = await tx.getRepository(OidcLoginAttempt).delete({ id });
    return (res.affected ?? 0) === 1;
  }

  async purgeExpired(tx: Tx, now: Date): Promise<void> {
    await tx.getRepository(OidcLoginAttempt).delete({ expiresAt: LessThan(now) });
    await tx.getRepository(OidcPendingLink).delete({ expiresAt: LessThan(now) });
  }

  countAttempts(): Promise<number> {
    return this.dataSource.getRepository(OidcLoginAttempt).count();
  }

  async insertPendingLink(tx: Tx, link: OidcPendingLink): Promise<void> {
    await tx.getRepository(OidcPendingLink).insert(asRow(link));
  }

  findPendingLink(tokenHash: string, tx?: Tx): Promise<OidcPendingLink | null> {
    return (tx ?? this.dataSource.manager)
      .getRepository(OidcPendingLink)
      .findOne({ where: { tokenHash } });
  }

  /** Counts a wrong password; the row's failure count is compared by the caller. */
  async countPendingFailure(tx: Tx, id: string, failedAttempts: number): Promise<void> {
    await tx.getRepository(OidcPendingLink).update({ id }, { failedAttempts });
  }

  async deletePendingLink(tx: Tx, id: string): Promise<boolean> {
    const res = await tx.getRepository(OidcPendingLink).delete({ id });
    return (res.affected ?? 0) === 1;
  }
}
