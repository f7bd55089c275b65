import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/**
 * An external identity linked to a user, keyed by (issuer, subject), never by email. One subject per
 * issuer per user: a second one at the same issuer is refused, unlinking is explicit.
 */
@Entity('user_identities')
@Index('UQ_identity_issuer_subject', ['issuer', 'subject'], { unique: true })
@Index('UQ_identity_user_issuer', ['userId', 'issuer'], { unique: true })
export class UserIdentity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_identity_user' })
  user?: User;

  /** The provider's `id` from OIDC_PROVIDERS at the time of linking. */
  @Column({ type: 'varchar', length: 64, name: 'provider_id' })
  providerId!: string;

  @Column({ type: 'varchar', length: 255 })
  issuer!: string;

  @Column({ type: 'varchar', length: 255 })
  subject!: string;

  /** The email the provider asserted at linking (informational; never used to find the identity). */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;
}
