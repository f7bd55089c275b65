import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';

/** A workspace's SCIM bearer token: only its SHA-256 is kept. */
@Entity('scim_tokens')
@Index('UQ_scim_token_hash', ['tokenHash'], { unique: true })
@Index('IDX_scim_token_workspace', ['workspaceId', 'createdAt'])
export class ScimToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'FK_scim_token_workspace' })
  workspace?: Workspace;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @Column({ type: 'varchar', length: 36, name: 'created_by', nullable: true })
  createdBy!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'FK_scim_token_creator' })
  creator?: User;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;
}
