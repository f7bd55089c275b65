import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/**
 * A user's credentials for an external service. The secrets (access token and secret) are one
 * AES-256-GCM ciphertext bound to (user, service); `keyId` names the key that sealed it.
 */
@Entity('external_credentials')
@Index('UQ_external_credential_user_service', ['userId', 'service'], { unique: true })
export class ExternalCredential {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_external_credential_user' })
  user?: User;

  @Column({ type: 'varchar', length: 64 })
  service!: string;

  @Column({ type: 'varchar', length: 255, name: 'service_user' })
  serviceUser!: string;

  @Column({ type: 'varchar', length: 200, name: 'display_name', nullable: true })
  displayName!: string | null;

  @DateColumn({ name: 'access_token_expires', nullable: true })
  accessTokenExpires!: Date | null;

  @DateColumn({ name: 'access_secret_expires', nullable: true })
  accessSecretExpires!: Date | null;

  @Column({ type: 'boolean', name: 'has_access_secret', default: false })
  hasAccessSecret!: boolean;

  @Column({ type: 'text' })
  ciphertext!: string;

  @Column({ type: 'varchar', length: 64, name: 'key_id' })
  keyId!: string;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
