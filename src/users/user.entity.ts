import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import {
  CreatedAtColumn,
  DateColumn,
  JsonColumn,
  RowVersionColumn,
  UpdatedAtColumn,
} from '#src/database/columns.js';
import type { ServerRole, UserStatus } from '#src/kernel/principal.js';

export type { UserStatus };

/** A person signs in; a service (an OAuth client's account) only ever acts through tokens. */
export type UserKind = 'person' | 'service';

@Entity('users')
@Index('UQ_user_email', ['emailNormalized'], { unique: true })
@Index('UQ_user_username', ['usernameNormalized'], { unique: true })
@Index('IDX_user_full_name', ['fullNameNormalized', 'id'])
// The last-admin check locks the active admins: this index keeps that lock to those rows.
@Index('IDX_user_role_status', ['role', 'status'])
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** A person's address; null for a service account (kind `service`), which has none. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  /** Lower-cased email: the unique key, so case variants are one account (NULLs do not collide). */
  @Column({ type: 'varchar', length: 254, name: 'email_normalized', nullable: true })
  emailNormalized!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'username_normalized', nullable: true })
  usernameNormalized!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'full_name', nullable: true })
  fullName!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'full_name_normalized', nullable: true })
  fullNameNormalized!: string | null;

  @Column({ type: 'varchar', length: 100, name: 'password_hash', nullable: true, select: false })
  passwordHash?: string | null;

  @Column({ type: 'varchar', length: 16 })
  role!: ServerRole;

  @Column({ type: 'varchar', length: 16 })
  status!: UserStatus;

  @Column({ type: 'varchar', length: 16, default: 'person' })
  kind!: UserKind;

  @Column({ type: 'boolean', name: 'email_verified', default: false })
  emailVerified!: boolean;

  @JsonColumn()
  data!: Record<string, unknown>;

  @Column({ type: 'integer', name: 'failed_logins', default: 0 })
  failedLogins!: number;

  @Column({ type: 'integer', name: 'lock_count', default: 0 })
  lockCount!: number;

  @DateColumn({ name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}
