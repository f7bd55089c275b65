import { Injectable } from '@nestjs/common';
import { intersectPermissions } from '../common/permissions.js';
import type { Tx } from '../database/database.service.js';
import type { Principal, ServerRole } from '../auth/principal.js';
import { isServerAdmin } from '../workspaces/workspace-access.js';
import {
  evaluate,
  type EffectivePermissions,
  type PermissionSource,
  type ProjectRole,
} from './project-roles.js';
import { ProjectsRepository, type GrantRow } from './projects.repository.js';

export interface UserGrants {
  serverRole: ServerRole | null;
  byProject: Map<string, PermissionSource[]>;
}

function toSource(r: GrantRow): PermissionSource | null {
  switch (r.source) {
    case 'direct':
      return { kind: 'direct', role: r.role as ProjectRole };
    case 'group':
      return {
        kind: 'group',
        role: r.role as ProjectRole,
        groupId: r.groupId ?? '',
        groupName: r.groupName ?? '',
      };
    case 'workspace':
      return { kind: 'workspace', role: 'admin' };
    case 'server':
      return { kind: 'server', role: 'admin' };
    case 'role':
      return null;
  }
}

const RANK: Record<PermissionSource['kind'], number> = {
  direct: 0,
  group: 1,
  workspace: 2,
  server: 3,
};
const rank = (s: PermissionSource): number => RANK[s.kind];
const key = (s: PermissionSource): string =>
  s.kind === 'group' ? `${s.groupName}\u0000${s.groupId}` : '';

/**
 * Effective project permissions. No cache: one indexed query per evaluation, so a membership removal
 * or a downgrade takes effect on the very next request, on every instance.
 */
@Injectable()
export class ProjectAccessService {
  constructor(private readonly repo: ProjectsRepository) {}

  /** Every source of every project role the user holds (restricted to `projectIds`), one query. */
  async grants(userId: string, projectIds: string[] | null, tx?: Tx): Promise<UserGrants> {
    if (projectIds !== null && projectIds.length === 0) {
      return { serverRole: null, byProject: new Map() };
    }
    const rows = await this.repo.grantsOf(userId, projectIds, tx);
    const byProject = new Map<string, PermissionSource[]>();
    let serverRole: ServerRole | null = null;
    for (const r of rows) {
      if (r.source === 'role') {
        serverRole = r.role as ServerRole;
        continue;
      }
      const s = toSource(r);
      if (!s || r.projectId === null) continue;
      const list = byProject.get(r.projectId) ?? [];
      list.push(s);
      byProject.set(r.projectId, list);
    }
    // Stable order whatever the database returns: direct, groups by name, workspace, server.
    for (const list of byProject.values())
      list.sort((a, b) => rank(a) - rank(b) || key(a).localeCompare(key(b)));
    return { serverRole, byProject };
  }

  /** Permissions of a user per project (projects where they hold none are left out). */
  async permissionsByProject(
    userId: string,
    projectIds?: string[],
    tx?: Tx,
  ): Promise<Record<string, string[]>> {
    const g = await this.grants(userId, projectIds ? [...new Set(projectIds)] : null, tx);
    const out: Record<string, string[]> = {};
    if (g.serverRole === null) return out;
    for (const [projectId, sources] of g.byProject) {
      const perms = evaluate(sources, g.serverRole).permissions;
      if (perms.length) out[projectId] = perms;
    }
    return out;
  }

  /** The full evaluation (with explanation) of one user in one project. */
  async effective(
    userId: string,
    projectId: string,
    tx?: Tx,
  ): Promise<EffectivePermissions & { serverRole: ServerRole | null }> {
    const g = await this.grants(userId, [projectId], tx);
    const sources = g.byProject.get(projectId) ?? [];
    return { ...evaluate(sources, g.serverRole ?? 'reader'), serverRole: g.serverRole };
  }

  /**
   * What the caller may do in these projects: their effective permissions, plus everything for
   * holders of `workspaces.manage`, narrowed by the credential (API key scopes, a grant's project
   * permissions) so a narrowed credential never acts beyond its narrowing.
   */
  async actorPermissions(
    p: Principal,
    projectIds: string[],
    tx?: Tx,
  ): Promise<Map<string, string[]>> {
    const unique = [...new Set(projectIds)];
    const g = await this.grants(p.userId, unique, tx);
    const serverAdmin = isServerAdmin(p);
    const out = new Map<string, string[]>();
    for (const projectId of unique) {
      const sources = [...(g.byProject.get(projectId) ?? [])];
      if (serverAdmin && !sources.some((s) => s.kind === 'server'))
        sources.push({ kind: 'server', role: 'admin' });
      let perms = evaluate(sources, p.role).permissions;
      if (p.scopes !== null) perms = intersectPermissions(perms, p.scopes);
      if (p.projectPermissions !== null)
        perms = intersectPermissions(perms, p.projectPermissions[projectId] ?? []);
      out.set(projectId, perms);
    }
    return out;
  }

  async actorPermissionsIn(p: Principal, projectId: string, tx?: Tx): Promise<string[]> {
    return (await this.actorPermissions(p, [projectId], tx)).get(projectId) ?? [];
  }
}
