import { TableColumn, TableForeignKey, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/**
 * SCIM 2.0 provisioning: workspace SCIM tokens (hashed), the workspace-local SCIM attributes of
 * users and groups, and the membership-level suspension (`active: false`).
 */
export class Scim1764000500000 implements MigrationInterface {
  name = 'Scim1764000500000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn(
      'workspace_members',
      new TableColumn({ name: 'suspended', type: 'boolean', default: 0 }),
    );
    await createTable(
      qr,
      'scim_tokens',
      [
        col.id(),
        col.ref('workspace_id'),
        col.str('name', 100),
        col.str('prefix', 16),
        col.char('token_hash', 64),
        col.ref('created_by', true),
        col.createdAt(),
        col.date('last_used_at', true),
      ],
      [
        idx('UQ_scim_token_hash', ['token_hash'], true),
        idx('IDX_scim_token_workspace', ['workspace_id', 'created_at']),
      ],
      [
        fk('FK_scim_token_workspace', 'workspace_id', 'workspaces'),
        fk('FK_scim_token_creator', 'created_by', 'users', 'SET NULL'),
      ],
    );
    await createTable(
      qr,
      'scim_users',
      [
        col.id('workspace_id'),
        col.id('user_id'),
        col.str('external_id', 255, true),
        col.str('given_name', 200, true),
        col.str('family_name', 200, true),
        col.str('formatted_name', 200, true),
        col.str('display_name', 200, true),
        col.str('title', 200, true),
        col.str('employee_number', 64, true),
        col.str('department', 200, true),
        col.str('organization', 200, true),
        col.str('manager_id', 255, true),
        col.bool('created_account', false),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [
        idx('IDX_scim_user_external', ['workspace_id', 'external_id']),
        idx('IDX_scim_user_display', ['workspace_id', 'display_name']),
        idx('IDX_scim_user_updated', ['workspace_id', 'updated_at']),
        idx('IDX_scim_user_user', ['user_id']),
      ],
      [
        // The row lives and dies with the membership it describes.
        new TableForeignKey({
          name: 'FK_scim_user_member',
          columnNames: ['workspace_id', 'user_id'],
          referencedTableName: 'workspace_members',
          referencedColumnNames: ['workspace_id', 'user_id'],
          onDelete: 'CASCADE',
          onUpdate: 'NO ACTION',
        }),
      ],
    );
    await createTable(
      qr,
      'scim_groups',
      [
        col.id('group_id'),
        col.ref('workspace_id'),
        col.str('external_id', 255, true),
        col.createdAt(),
        col.updatedAt(),
      ],
      [idx('IDX_scim_group_external', ['workspace_id', 'external_id'])],
      [fk('FK_scim_group_group', 'group_id', 'user_groups')],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('scim_groups', true);
    await qr.dropTable('scim_users', true);
    await qr.dropTable('scim_tokens', true);
    await qr.dropColumn('workspace_members', 'suspended');
  }
}
