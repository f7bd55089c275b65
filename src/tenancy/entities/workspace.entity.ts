import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, RowVersionColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

export type WorkspaceRole = 'admin' | 'user' | 'reader';
export const WORKSPACE_ROLES: readonly WorkspaceRole[] = ['admin', 'user', 'reader'];

/** A tenant. `domain` is the stable, unique slug of the title used in routes. */
@Entity('workspaces')
@Index('UQ_workspace_domain', ['domain'], { unique: true })
@Index('IDX_workspace_created_by', ['createdBy'])
export class Workspace {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  domain!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'varchar', length: 36, name: 'created_by', nullable: true })
  createdBy!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'FK_workspace_creator' })
  creator?: User;

  /** Members without a second factor get an enrolment-only session at their next sign-in. */
  @Column({ type: 'boolean', name: 'mfa_required', default: false })
  mfaRequired!: boolean;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}

@Entity('workspace_members')
@Index('IDX_workspace_member_user', ['userId', 'workspaceId'])
export class WorkspaceMember {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'FK_workspace_member_workspace' })
  workspace?: Workspace;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_workspace_member_user' })
  user?: User;

  @Column({ type: 'varchar', length: 16 })
  role!: WorkspaceRole;

  /** Suspended by the workspace's SCIM (`active: false`): no access through this workspace. */
  @Column({ type: 'boolean', default: false })
  suspended!: boolean;

  @CreatedAtColumn()
  createdAt!: Date;
}
