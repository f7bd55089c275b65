import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, Not } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { MfaFactor } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import { MfaRecoveryCode } from '#src/auth/mfa/entities/mfa-recovery-code.entity.js';
import { MfaChallenge } from '#src/auth/mfa/entities/mfa-challenge.entity.js';

export const MFA_TOKEN_ATTEMPTS = 3;

@Injectable()
export class MfaRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx) {
    return tx ?? this.dataSource.manager;
  }

  insertFactor(tx: Tx, f: MfaFactor): Promise<unknown> {
    return tx.getRepository(MfaFactor).insert(asRow(f));
  }

  /** Factors in force (confirmed), oldest first. */
  confirmedFactors(userId: string, tx?: Tx): Promise<MfaFactor[]> {
    return this.m(tx)
      .getRepository(MfaFactor)
      .find({ where: { userId, confirmedAt: Not(IsNull()) }, order: { createdAt: 'ASC' } });
  }

  factor(userId: string, id: string, tx?: Tx): Promise<MfaFactor | null> {
    return this.m(tx).getRepository(MfaFactor).findOne({ where: { id, userId } });
  }

  async confirm(tx: Tx, id: string, step: number, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(MfaFactor)
      .update(
        { id, confirmedAt: IsNull() },
        { confirmedAt: at, lastUsedStep: String(step), lastUsedAt: at },
      );
    return (res.affected ?? 0) === 1;
  }

  /**
   * Accepts a TOTP time step once: only a step later than the last one accepted moves the mark, so
   * two requests racing with one code cannot both win.
   */
  async spendStep(tx: Tx, id: string, step: number, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(MfaFactor)
      .createQueryBuilder()
      .update()
      .set({ lastUsedStep: String(step), lastUsedAt: at })
      .where('id = :id AND (last_used_step IS NULL OR last_used_step < :step)', { id, step })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  async touchFactor(tx: Tx, id: string, at: Date, signCount?: number): Promise<void> {
    await tx
      .getRepository(MfaFactor)
      .update(
        { id },
        signCount === undefined
          ? { lastUsedAt: at }
          : { lastUsedAt: at, signCount: String(signCount) },
      );
  }

  async deleteFactor(tx: Tx, id: string): Promise<boolean> {
    const res = await tx.getRepository(MfaFactor).delete({ id });
    return (res.affected ?? 0) === 1;
  }

  factorByCredentialId(credentialId: string, tx?: Tx): Promise<MfaFactor | null> {
    return this.m(tx)
      .getRepository(MfaFactor)
      .findOne({ where: { credentialId, confirmedAt: Not(IsNull()) } });
  }

  async replaceRecoveryCodes(tx: Tx, userId: string, rows: MfaRecoveryCode[]): Promise<void> {
    await tx.getRepository(MfaRecoveryCode).delete({ userId });
    if (rows.length) await tx.getRepository(MfaRecoveryCode).insert(rows.map((r) => asRow(r)));
  }

  recoveryCodesLeft(userId: string, tx?: Tx): Promise<number> {
    return this.m(tx)
      .getRepository(MfaRecoveryCode)
      .count({ where: { userId, usedAt: IsNull() } });
  }

  /** Spends one recovery code; false when unknown or already used (also under concurrency). */
  async spendRecoveryCode(tx: Tx, userId: string, codeHash: string, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(MfaRecoveryCode)
      .update({ userId, codeHash, usedAt: IsNull() }, { usedAt: at });
    return (res.affected ?? 0) >= 1;
  }

  insertChallenge(tx: Tx, c: MfaChallenge): Promise<unknown> {
    return tx.getRepository(MfaChallenge).insert(asRow(c));
  }

  challengeByHash(tokenHash: string, tx?: Tx): Promise<MfaChallenge | null> {
    return this.m(tx).getRepository(MfaChallenge).findOne({ where: { tokenHash } });
  }

  /** Takes one attempt of a live, unspent challenge; false when none is left. */
  async takeAttempt(tx: Tx, id: string, now: Date): Promise<boolean> {
    const res = await tx
      .getRepository(MfaChallenge)
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND used_at IS NULL AND expires_at > :now AND attempts < :max', {
        id,
        now,
        max: MFA_TOKEN_ATTEMPTS,
      })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  async setChallenge(tx: Tx, id: string, challenge: string): Promise<void> {
    await tx.getRepository(MfaChallenge).update({ id, usedAt: IsNull() }, { challenge });
  }

  async spendChallenge(tx: Tx, id: string, at: Date): Promise<boolean> {
    const res = await tx
      .getRepository(MfaChallenge)
      .update({ id, usedAt: IsNull() }, { usedAt: at });
    return (res.affected ?? 0) === 1;
  }

  async deleteExpiredChallenges(tx: Tx, before: Date): Promise<void> {
    await tx
      .getRepository(MfaChallenge)
      .createQueryBuilder()
      .delete()
      .where('expires_at < :before', { before })
      .execute();
  }
}
