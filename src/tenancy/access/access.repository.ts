import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { forUpdate } from '#src/database/locks.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import {
  Workspace,
  WorkspaceMember,
  type WorkspaceRole,
} from '#src/tenancy/entities/workspace.entity.js';

/** One row of the effective-permission query: a role a user holds in a project, and why. */
export interface RoleSourceRow {
  /** Null only on the `role` row, which carries the user's server role. */
  projectId: string | null;
  source: 'direct' | 'group' | 'workspace' | 'server' | 'role';
  role: string;
  groupId: string | null;
  groupName: string | null;
}

/**
 * Memberships suspended by a workspace's SCIM (`active: false`) give nothing in that workspace:
 * no project role reaches a user through a workspace where they are suspended.
 */
const NOT_SUSPENDED = (projectColumn: string, userColumn: string): string => `
         AND NOT EXISTS (SELECT 1 FROM projects sp
                           JOIN workspace_members sw ON sw.workspace_id = sp.workspace_id
                          WHERE sp.id = ${projectColumn} AND sw.user_id = ${userColumn}
                            AND sw.suspended = 1)`;

/**
 * The reads behind every access decision in tenancy: the resources themselves (optionally locked,
 * so a check inside a transaction judges the latest committed rows on MySQL), the caller's roles in
 * them, and the one query of every project role a user holds. Set-based where a caller asks about
 * many ids at once.
 */
@Injectable()
export class AccessRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx): Tx {
    return tx ?? this.dataSource.manager;
  }

  /**
   * Every role the user holds in projects, with where it comes from, in ONE query: direct
   * memberships, memberships of their groups, workspace adminship, server adminship, plus one row
   * with the server role (the cap). Indexed by IDX_project_member_user, IDX_group_member_user,
   * IDX_project_member_group and IDX_workspace_member_user.
   */
  async roleSourcesOf(
    userId: string,
    projectIds: string[] | null,
    tx?: Tx,
  ): Promise<RoleSourceRow[]> {
    const filter = (column: string): { sql: string; params: string[] } =>
      projectIds === null
        ? { sql: '', params: [] }
        : {
            sql: ` AND ${column} IN (${projectIds.map(() => '?').join(', ')})`,
            params: projectIds,
          };
    const direct = filter('pm.project_id');
    const viaGroup = filter('pm.project_id');
    const viaWorkspace = filter('p.id');
    const viaServer = filter('p.id');
    const sql = `
      SELECT pm.project_id AS projectId, 'direct' AS source, pm.role AS role,
             NULL AS groupId, NULL AS groupName
        FROM project_members pm
       WHERE pm.user_id = ?${direct.sql}${NOT_SUSPENDED('pm.project_id', 'pm.user_id')}
      UNION ALL
      SELECT pm.project_id, 'group', pm.role, g.id, g.name
        FROM group_members gm
        JOIN project_members pm ON pm.group_id = gm.group_id
        JOIN user_groups g ON g.id = gm.group_id
       WHERE gm.user_id = ?${viaGroup.sql}${NOT_SUSPENDED('pm.project_id', 'gm.user_id')}
      UNION ALL
      SELECT p.id, 'workspace', wm.role, NULL, NULL
        FROM workspace_members wm
        JOIN projects p ON p.workspace_id = wm.workspace_id
       WHERE wm.user_id = ? AND wm.role = 'admin' AND wm.suspended = 0${viaWorkspace.sql}
      UNION ALL
      SELECT p.id, 'server', u.role, NULL, NULL
        FROM users u
        JOIN projects p ON 1 = 1
       WHERE u.id = ? AND u.role = 'admin'${viaServer.sql}
      UNION ALL
      SELECT NULL, 'role', u.role, NULL, NULL
        FROM users u
       WHERE u.id = ?`;
    const params = [
      userId,
      ...direct.params,
      userId,
      ...viaGroup.params,
      userId,
      ...viaWorkspace.params,
      userId,
      ...viaServer.params,
      userId,
    ];
    const rows: RoleSourceRow[] = await this.m(tx).query(sql, params);
    return rows;
  }

  /** The workspace by domain or id; with `lock`, a row lock held for the transaction. */
  async workspace(
    ref: { domain: string } | { id: string },
    tx?: Tx,
    lock = false,
  ): Promise<Workspace | null> {
    const qb = this.m(tx).getRepository(Workspace).createQueryBuilder('w');
    if ('domain' in ref) qb.where('w.domain = :domain', { domain: ref.domain });
    else qb.where('w.id = :id', { id: ref.id });
    return lock && tx ? forUpdate(tx, qb).getOne() : qb.getOne();
  }

  async group(id: string, tx?: Tx, lock = false): Promise<Group | null> {
    const qb = this.m(tx).getRepository(Group).createQueryBuilder('g').where('g.id = :id', { id });
    const g = await (lock && tx ? forUpdate(tx, qb).getOne() : qb.getOne());
    // MySQL compares ids without case (its collation), SQLite exactly: exactly on both.
    return g && g.id === id ? g : null;
  }

  async project(id: string, tx?: Tx, lock = false): Promise<Project | null> {
    const qb = this.m(tx)
      .getRepository(Project)
      .createQueryBuilder('p')
      .where('p.id = :id', { id });
    return lock && tx ? forUpdate(tx, qb).getOne() : qb.getOne();
  }

  /**
   * The user's role in each of these workspaces (those where they are no member, or a suspended
   * one, are left out).
   */
  async workspaceRoles(
    userId: string,
    workspaceIds: string[],
    tx?: Tx,
  ): Promise<Map<string, WorkspaceRole>> {
    if (workspaceIds.length === 0) return new Map();
    const rows = await this.m(tx)
      .getRepository(WorkspaceMember)
      .find({ where: { userId, workspaceId: In([...new Set(workspaceIds)]) } });
    return new Map(rows.filter((r) => !r.suspended).map((r) => [r.workspaceId, r.role]));
  }

  /** Of these groups, those the user is a member of. */
  async groupMemberships(userId: string, groupIds: string[], tx?: Tx): Promise<Set<string>> {
    if (groupIds.length === 0) return new Set();
    const rows = await this.m(tx)
      .getRepository(GroupMember)
      .find({ where: { userId, groupId: In([...new Set(groupIds)]) } });
    return new Set(rows.map((r) => r.groupId));
  }

  /** Members of every workspace `adminId` administers (themselves included); null when none. */
  async membersOfAdministeredWorkspaces(adminId: string): Promise<string[] | null> {
    // The admin is a member of each workspace they administer, so no rows means none administered.
    const rows = await this.m()
      .getRepository(WorkspaceMember)
      .createQueryBuilder('m')
      .innerJoin(
        WorkspaceMember,
        'a',
        "a.workspaceId = m.workspaceId AND a.userId = :adminId AND a.role = 'admin' AND a.suspended = 0",
        { adminId },
      )
      .select('DISTINCT m.userId', 'userId')
      .getRawMany<{ userId: string }>();
    return rows.length === 0 ? null : rows.map((r) => r.userId);
  }

  findProjects(ids: string[], tx?: Tx): Promise<Project[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.m(tx)
      .getRepository(Project)
      .find({ where: { id: In(ids) }, order: { id: 'ASC' } });
  }
}
