import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn, JsonColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

export type GrantType = 'user' | 'service';
export const GRANT_TYPES: readonly GrantType[] = ['user', 'service'];

export interface ProjectPermissionGrant {
  projectId: string;
  permissions: string[];
}

/**
 * A grant: the root of one refresh-token family. Its `expiresAt` is the family's absolute end;
 * revoking it (explicitly, or on refresh-token reuse) ends every refresh and access token from it.
 */
@Entity('grants')
@Index('IDX_grant_user', ['userId', 'createdAt'])
export class Grant {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_grant_user' })
  user?: User;

  @Column({ type: 'varchar', length: 16 })
  type!: GrantType;

  @Column({ type: 'varchar', length: 100, name: 'for_client_id', nullable: true })
  forClientId!: string | null;

  /** Narrowing to some project permissions; null = the owner's project permissions. */
  @JsonColumn({ name: 'project_permissions', nullable: true })
  projectPermissions!: ProjectPermissionGrant[] | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @DateColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 32, name: 'revoked_reason', nullable: true })
  revokedReason!: string | null;
}
