import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn, JsonColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/** A user's API key. Only the SHA-256 of the key is stored, with a short visible prefix. */
@Entity('api_keys')
@Index('UQ_api_key_hash', ['keyHash'], { unique: true })
@Index('IDX_api_key_user', ['userId', 'createdAt'])
export class ApiKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_api_key_user' })
  user?: User;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ type: 'varchar', length: 64, name: 'key_hash' })
  keyHash!: string;

  /** Permissions narrowing the owner's; null = the owner's permissions. */
  @JsonColumn({ nullable: true })
  scopes!: string[] | null;

  @DateColumn({ name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @DateColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
