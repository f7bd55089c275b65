import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/**
 * An external identity waiting for the person to prove the local account's password before it is
 * linked (the confirm-link page). Bound to the browser by an HttpOnly cookie holding a token whose
 * SHA-256 is stored here; single use, expiring, a few password tries at most.
 */
@Entity('oidc_pending_links')
@Index('UQ_oidc_pending_token', ['tokenHash'], { unique: true })
@Index('IDX_oidc_pending_expires', ['expiresAt'])
export class OidcPendingLink {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_oidc_pending_user' })
  user?: User;

  @Column({ type: 'varchar', length: 64, name: 'provider_id' })
  providerId!: string;

  @Column({ type: 'varchar', length: 255 })
  issuer!: string;

  @Column({ type: 'varchar', length: 255 })
  subject!: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  @Column({ type: 'varchar', length: 512, name: 'return_to' })
  returnTo!: string;

  @Column({ type: 'integer', name: 'failed_attempts', default: 0 })
  failedAttempts!: number;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;
}
