import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import {
  CreatedAtColumn,
  JsonColumn,
  RowVersionColumn,
  UpdatedAtColumn,
} from '#src/database/columns.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import { User } from '#src/users/user.entity.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';

/**
 * A group of users in a workspace, optionally scoped to one project (the seeds' per-workflow groups).
 * `scopeKey` is the project id when scoped, else the workspace id, so the unique name index has no
 * NULL column (NULLs never collide in a unique index).
 */
@Entity('user_groups')
@Index('UQ_group_scope_name', ['scopeKey', 'nameNormalized'], { unique: true })
@Index('IDX_group_workspace', ['workspaceId', 'id'])
@Index('IDX_group_project', ['projectId'])
@Index('IDX_group_owner', ['ownerId'])
export class Group {
  // A UUID, or an id the creator chose (up to 64 characters: see groups/group-id.ts).
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'FK_group_workspace' })
  workspace?: Workspace;

  @Column({ type: 'varchar', length: 36, name: 'project_id', nullable: true })
  projectId!: string | null;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'FK_group_project' })
  project?: Project;

  @Column({ type: 'varchar', length: 36, name: 'scope_key' })
  scopeKey!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 200, name: 'name_normalized' })
  nameNormalized!: string;

  @Column({ type: 'varchar', length: 36, name: 'owner_id', nullable: true })
  ownerId!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'FK_group_owner' })
  owner?: User;

  // A plain record type: TypeORM's deep-partial insert type cannot follow a recursive JSON type.
  @JsonColumn()
  settings!: Record<string, unknown>;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}

@Entity('group_members')
@Index('IDX_group_member_user', ['userId', 'groupId'])
export class GroupMember {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'group_id' })
  groupId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'FK_group_member_group' })
  group?: Group;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_group_member_user' })
  user?: User;

  @CreatedAtColumn()
  createdAt!: Date;
}
