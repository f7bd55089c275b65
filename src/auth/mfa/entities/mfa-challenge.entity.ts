import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

export type MfaChallengePurpose = 'login' | 'webauthn_register' | 'passkey_login';

/**
 * A short-lived challenge: the `mfaToken` of a two-step sign-in (only its hash stored; at most 3
 * attempts; spent by the one that succeeds), or a WebAuthn challenge awaiting its answer.
 */
@Entity('mfa_challenges')
@Index('UQ_mfa_challenge_token', ['tokenHash'], { unique: true })
@Index('IDX_mfa_challenge_user', ['userId'])
export class MfaChallenge {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id', nullable: true })
  userId!: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_mfa_challenge_user' })
  user?: User;

  @Column({ type: 'varchar', length: 24 })
  purpose!: MfaChallengePurpose;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  /** The WebAuthn challenge (base64url) this row waits an answer to. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  challenge!: string | null;

  /** How the first step was proved (`pwd`), carried to the session's amr. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  amr!: string | null;

  /** The session method of the first step (`password`, `oidc:<provider>`), carried to the session. */
  @Column({ type: 'varchar', length: 80, nullable: true })
  method!: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateColumn({ name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;
}
