import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/**
 * Workspaces (tenants), projects, groups and the three membership tables. Every membership row goes
 * with its parent (ON DELETE CASCADE), so a deleted workspace, project, group or user leaves nothing.
 */
export class WorkspacesGroupsProjects1764000030000 implements MigrationInterface {
  name = 'WorkspacesGroupsProjects1764000030000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'workspaces',
      [
        col.id(),
        col.str('domain', 64),
        col.str('title', 200),
        col.ref('created_by', true),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [
        idx('UQ_workspace_domain', ['domain'], true),
        idx('IDX_workspace_created_by', ['created_by']),
      ],
      [fk('FK_workspace_creator', 'created_by', 'users', 'SET NULL')],
    );
    await createTable(
      qr,
      'workspace_members',
      [col.id('workspace_id'), col.id('user_id'), col.str('role', 16), col.createdAt()],
      [idx('IDX_workspace_member_user', ['user_id', 'workspace_id'])],
      [
        fk('FK_workspace_member_workspace', 'workspace_id', 'workspaces'),
        fk('FK_workspace_member_user', 'user_id', 'users'),
      ],
    );
    await createTable(
      qr,
      'projects',
      [
        col.id(),
        col.ref('workspace_id'),
        col.str('name', 200),
        col.str('name_normalized', 200),
        col.ref('created_by', true),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [
        idx('UQ_project_name', ['workspace_id', 'name_normalized'], true),
        idx('IDX_project_created_by', ['created_by']),
      ],
      [
        fk('FK_project_workspace', 'workspace_id', 'workspaces'),
        fk('FK_project_creator', 'created_by', 'users', 'SET NULL'),
      ],
    );
    // `groups` is a reserved word in MySQL 8: the table is user_groups.
    await createTable(
      qr,
      'user_groups',
      [
        col.id(),
        col.ref('workspace_id'),
        col.ref('project_id', true),
        // project_id when the group belongs to a project, else workspace_id: one NULL-free unique key.
        col.str('scope_key', 36),
        col.str('name', 200),
        col.str('name_normalized', 200),
        col.ref('owner_id', true),
        col.text('settings'),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [
        idx('UQ_group_scope_name', ['scope_key', 'name_normalized'], true),
        idx('IDX_group_workspace', ['workspace_id', 'id']),
        idx('IDX_group_project', ['project_id']),
        idx('IDX_group_owner', ['owner_id']),
      ],
      [
        fk('FK_group_workspace', 'workspace_id', 'workspaces'),
        fk('FK_group_project', 'project_id', 'projects'),
        fk('FK_group_owner', 'owner_id', 'users', 'SET NULL'),
      ],
    );
    await createTable(
      qr,
      'group_members',
      [col.id('group_id'), col.id('user_id'), col.createdAt()],
      [idx('IDX_group_member_user', ['user_id', 'group_id'])],
      [
        fk('FK_group_member_group', 'group_id', 'user_groups'),
        fk('FK_group_member_user', 'user_id', 'users'),
      ],
    );
    await createTable(
      qr,
      'project_members',
      [
        col.id('project_id'),
        // The user's or the group's id: what routes call memberId.
        col.id('member_id'),
        col.str('member_type', 8),
        col.ref('user_id', true),
        col.ref('group_id', true),
        col.str('role', 16),
        col.createdAt(),
        col.updatedAt(),
      ],
      [
        idx('IDX_project_member_user', ['user_id', 'project_id']),
        idx('IDX_project_member_group', ['group_id', 'project_id']),
      ],
      [
        fk('FK_project_member_project', 'project_id', 'projects'),
        fk('FK_project_member_user', 'user_id', 'users'),
        fk('FK_project_member_group', 'group_id', 'user_groups'),
      ],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of [
      'project_members',
      'group_members',
      'user_groups',
      'projects',
      'workspace_members',
      'workspaces',
    ]) {
      await qr.dropTable(t, true);
    }
  }
}
