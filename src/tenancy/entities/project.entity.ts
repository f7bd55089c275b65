import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, RowVersionColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';

/** A project lives in one workspace; names are unique (case-insensitively) within it. */
@Entity('projects')
@Index('UQ_project_name', ['workspaceId', 'nameNormalized'], { unique: true })
@Index('IDX_project_created_by', ['createdBy'])
export class Project {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'FK_project_workspace' })
  workspace?: Workspace;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 200, name: 'name_normalized' })
  nameNormalized!: string;

  @Column({ type: 'varchar', length: 36, name: 'created_by', nullable: true })
  createdBy!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'FK_project_creator' })
  creator?: User;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}
