import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, RowVersionColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';

/**
 * What a workspace's SCIM client says about one of its members, kept for that workspace only (the
 * account itself is shared by every workspace the person belongs to). `createdAccount`: this
 * workspace's SCIM created the account (see docs/scim.md, "Isolation").
 */
@Entity('scim_users')
@Index('IDX_scim_user_external', ['workspaceId', 'externalId'])
@Index('IDX_scim_user_display', ['workspaceId', 'displayName'])
@Index('IDX_scim_user_updated', ['workspaceId', 'updatedAt'])
@Index('IDX_scim_user_user', ['userId'])
export class ScimUser {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => WorkspaceMember, { onDelete: 'CASCADE' })
  @JoinColumn([
    {
      name: 'workspace_id',
      referencedColumnName: 'workspaceId',
      foreignKeyConstraintName: 'FK_scim_user_member',
    },
    { name: 'user_id', referencedColumnName: 'userId' },
  ])
  member?: WorkspaceMember;

  @Column({ type: 'varchar', length: 255, name: 'external_id', nullable: true })
  externalId!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'given_name', nullable: true })
  givenName!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'family_name', nullable: true })
  familyName!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'formatted_name', nullable: true })
  formattedName!: string | null;

  @Column({ type: 'varchar', length: 200, name: 'display_name', nullable: true })
  displayName!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'employee_number', nullable: true })
  employeeNumber!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  department!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  organization!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'manager_id', nullable: true })
  managerId!: string | null;

  @Column({ type: 'boolean', name: 'created_account', default: false })
  createdAccount!: boolean;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}
