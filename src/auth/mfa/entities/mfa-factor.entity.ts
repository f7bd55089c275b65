import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

export type MfaFactorType = 'totp' | 'webauthn';

/**
 * A second factor. TOTP: the secret sealed with the SecretBox (AAD: the factor id) and the last
 * time step accepted (each code works once). WebAuthn: the credential id and public key. Not in
 * force until `confirmedAt` is set.
 */
@Entity('mfa_factors')
@Index('IDX_mfa_factor_user', ['userId', 'createdAt'])
@Index('UQ_mfa_factor_credential', ['credentialId'], { unique: true })
export class MfaFactor {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_mfa_factor_user' })
  user?: User;

  @Column({ type: 'varchar', length: 16 })
  type!: MfaFactorType;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 64, name: 'secret_key_id', nullable: true })
  secretKeyId!: string | null;

  @Column({ type: 'text', nullable: true })
  secret!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'credential_id', nullable: true })
  credentialId!: string | null;

  @Column({ type: 'text', name: 'public_key', nullable: true })
  publicKey!: string | null;

  @Column({ type: 'bigint', name: 'sign_count', nullable: true })
  signCount!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  transports!: string | null;

  @Column({ type: 'bigint', name: 'last_used_step', nullable: true })
  lastUsedStep!: string | null;

  @DateColumn({ name: 'confirmed_at', nullable: true })
  confirmedAt!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;
}
