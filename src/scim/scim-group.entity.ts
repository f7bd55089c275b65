import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { Group } from '#src/tenancy/entities/group.entity.js';

/** The SCIM client's `externalId` of a workspace group (and when SCIM last changed it). */
@Entity('scim_groups')
@Index('IDX_scim_group_external', ['workspaceId', 'externalId'])
export class ScimGroup {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'group_id' })
  groupId!: string;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'FK_scim_group_group' })
  group?: Group;

  @Column({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @Column({ type: 'varchar', length: 255, name: 'external_id', nullable: true })
  externalId!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;
}
