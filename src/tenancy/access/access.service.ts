import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import type { Tx } from '#src/database/database.service.js';
import { narrowingAllowsTenancyWrites, narrowProjectPermissions } from '#src/kernel/narrowing.js';
import { permits } from '#src/kernel/permissions.js';
import type { Principal, ServerRole } from '#src/kernel/principal.js';
import { AccessRepository, type RoleSourceRow } from '#src/tenancy/access/access.repository.js';
import {
  evaluate,
  holdsRole,
  type EffectivePermissions,
  type PermissionSource,
  type ProjectRole,
} from '#src/tenancy/access/project-roles.js';
import type { Group } from '#src/tenancy/entities/group.entity.js';
import type { Project } from '#src/tenancy/entities/project.entity.js';
import type { Workspace, WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';

/** What a caller may do in one workspace. */
export interface WorkspaceAccess {
  workspace: Workspace;
  role: WorkspaceRole | null;
  serverAdmin: boolean;
  /** Workspace admin or server admin (and allowed to write). */
  admin: boolean;
  /** May create projects and groups here: admin/user role (or server admin), allowed to write. */
  contributor: boolean;
}

/** What a caller may do with one group. */
export interface GroupAccess {
  group: Group;
  workspace: WorkspaceAccess;
  member: boolean;
  owner: boolean;
  /** Rename, replace members and projects, add and remove members. */
  manage: boolean;
  delete: boolean;
}

/** A project the caller may see, with the permissions their credential carries in it. */
export interface ProjectView {
  project: Project;
  permissions: string[];
  /**
   * The caller's user's role sources in the project and their server role, read by the same query
   * as `permissions`; `effectiveIn(held, project.id)` is what `effective()` answers for that user.
   */
  held: UserRoleSources;
}

/** A user's project roles with where each comes from, and their server role (the cap). */
export interface UserRoleSources {
  serverRole: ServerRole | null;
  byProject: Map<string, PermissionSource[]>;
}

export type WorkspaceNeed = 'member' | 'contributor' | 'admin';
export type GroupNeed = 'member' | 'manager' | 'deleter';

/** A project of a user, with the permissions the user holds in it now. */
export interface UserProject {
  id: string;
  name: string;
  workspaceId: string;
  permissions: string[];
}

/** Holders of `workspaces.manage` (server admins) administer every workspace, group and project. */
export function isServerAdmin(p: Principal): boolean {
  return permits(p.permissions, 'workspaces.manage');
}

/** Server roles `reader` and `demo` never write, whatever their workspace or project roles. */
export function readOnlyRole(p: Principal): boolean {
  return p.role === 'reader' || p.role === 'demo';
}

/** Writes at workspace and group level: not a read-only role, and not narrowed away. */
export function writesAllowed(p: Principal): boolean {
  return !readOnlyRole(p) && narrowingAllowsTenancyWrites(p);
}

function toSource(r: RoleSourceRow): PermissionSource | null {
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

const WORKSPACE_FORBIDDEN: Record<Exclude<WorkspaceNeed, 'member'>, string> = {
  contributor: 'Only workspace admins and users can do this.',
  admin: 'Only workspace admins can do this.',
};

/** 403 unless the caller's permissions in a project include `permission`. */
export function requireProjectPermission(permissions: string[], permission: string): void {
  if (!permits(permissions, permission))
    throw AppException.forbidden(`This needs the project permission ${permission}.`);
}

/** The full evaluation (with explanation) of the user whose role sources `g` are, in one project. */
export function effectiveIn(
  g: UserRoleSources,
  projectId: string,
): EffectivePermissions & { serverRole: ServerRole | null } {
  const sources = g.byProject.get(projectId) ?? [];
  return { ...evaluate(sources, g.serverRole ?? 'reader'), serverRole: g.serverRole };
}

/**
 * Every "may this principal do this on these workspaces, groups or projects?" in tenancy is
 * answered here, on the rows of AccessRepository. Existence never leaks: what the caller may not
 * see is 404, what they see but may not change is 403. No cache: one indexed query per evaluation,
 * so a removed membership or a downgrade takes effect on the very next request, on every instance.
 * Inside a transaction, pass `lock` to judge the latest committed rows (MySQL) and hold them.
 */
@Injectable()
export class AccessService {
  constructor(private readonly repo: AccessRepository) {}

  // Workspaces

  /** The caller's access to a workspace; 404 when they may not see it, 403 when `need` fails. */
  async workspace(
    p: Principal,
    ref: { domain: string } | { id: string },
    need: WorkspaceNeed = 'member',
    opts: { tx?: Tx; lock?: boolean } = {},
  ): Promise<WorkspaceAccess> {
    const ws = await this.repo.workspace(ref, opts.tx, opts.lock);
    if (!ws) throw AppException.notFound('Workspace');
    const serverAdmin = isServerAdmin(p);
    const role = (await this.repo.workspaceRoles(p.userId, [ws.id], opts.tx)).get(ws.id) ?? null;
    if (!serverAdmin && role === null) throw AppException.notFound('Workspace');
    const writes = writesAllowed(p);
    const a: WorkspaceAccess = {
      workspace: ws,
      role,
      serverAdmin,
      admin: writes && (serverAdmin || role === 'admin'),
      contributor: writes && (serverAdmin || role === 'admin' || role === 'user'),
    };
    if (need !== 'member' && !a[need]) throw AppException.forbidden(WORKSPACE_FORBIDDEN[need]);
    return a;
  }

  /** The workspace a group or project belongs to, null when it is gone (webhooks route events by it). */
  async workspaceIdOf(kind: 'group' | 'project', id: string, tx?: Tx): Promise<string | null> {
    const row = kind === 'group' ? await this.repo.group(id, tx) : await this.repo.project(id, tx);
    return row?.workspaceId ?? null;
  }

  /** Members of every workspace the viewer administers (themselves included); null when none. */
  membersOfAdministeredWorkspaces(viewerId: string): Promise<string[] | null> {
    return this.repo.membersOfAdministeredWorkspaces(viewerId);
  }

  // Groups

  /** The caller's access to a group; 404 when they may not see it, 403 when `need` fails. */
  async group(
    p: Principal,
    groupId: string,
    need: GroupNeed = 'member',
    opts: { tx?: Tx; lock?: boolean } = {},
  ): Promise<GroupAccess> {
    const group = await this.repo.group(groupId, opts.tx, opts.lock);
    if (!group) throw AppException.notFound('Group');
    let workspace: WorkspaceAccess;
    try {
      workspace = await this.workspace(p, { id: group.workspaceId }, 'member', { tx: opts.tx });
    } catch (err) {
      if (err instanceof AppException && err.code === 'not_found')
        throw AppException.notFound('Group');
      throw err;
    }
    const member = (await this.repo.groupMemberships(p.userId, [group.id], opts.tx)).has(group.id);
    const owner = group.ownerId === p.userId;
    const wsAdmin = workspace.serverAdmin || workspace.role === 'admin';
    if (!wsAdmin && !member && !owner) throw AppException.notFound('Group');
    const writes = writesAllowed(p);
    const manage = writes && (wsAdmin || owner);
    const a: GroupAccess = {
      group,
      workspace,
      member,
      owner,
      manage,
      delete: manage || (writes && member),
    };
    if (need === 'manager' && !a.manage)
      throw AppException.forbidden('Only the group owner and workspace admins can change it.');
    if (need === 'deleter' && !a.delete)
      throw AppException.forbidden('You may not delete this group.');
    return a;
  }

  // Projects

  /**
   * The project with the caller's permissions in it: 404 when they may not see it (no
   * `projects.read`), 403 without `permission`, and 403 unless they hold every permission of each
   * role in `assignsRoles` (nobody assigns a role they do not hold).
   */
  async project(
    p: Principal,
    projectId: string,
    permission = 'projects.read',
    opts: { tx?: Tx; lock?: boolean; assignsRoles?: ProjectRole[] } = {},
  ): Promise<ProjectView> {
    const project = await this.repo.project(projectId, opts.tx, opts.lock);
    if (!project) throw AppException.notFound('Project');
    const g = await this.roleSources(p.userId, [project.id], opts.tx);
    const permissions = this.credentialPermissions(p, g, project.id);
    if (!permits(permissions, 'projects.read')) throw AppException.notFound('Project');
    requireProjectPermission(permissions, permission);
    for (const role of opts.assignsRoles ?? []) {
      if (!holdsRole(permissions, role))
        throw AppException.forbidden(`You cannot assign the role ${role}: you do not hold it.`);
    }
    return { project, permissions, held: g };
  }

  /**
   * For a change of the project's members: visible (404), holding projects.members.manage and every
   * permission of each role in `roles` (403), with the project row locked for the transaction (so
   * on MySQL an actor demoted by a concurrent request is refused, not judged on a stale read).
   */
  async requireMembersManager(
    tx: Tx,
    p: Principal,
    projectId: string,
    roles: ProjectRole[],
  ): Promise<Project> {
    const v = await this.project(p, projectId, 'projects.members.manage', {
      tx,
      lock: true,
      assignsRoles: roles,
    });
    return v.project;
  }

  /**
   * What the caller's credential may do in each of these projects: their effective permissions
   * (everything for holders of `workspaces.manage`), narrowed by the credential.
   */
  async projectPermissions(
    p: Principal,
    projectIds: string[],
    tx?: Tx,
  ): Promise<Map<string, string[]>> {
    const unique = [...new Set(projectIds)];
    const g = await this.roleSources(p.userId, unique, tx);
    return new Map(unique.map((id) => [id, this.credentialPermissions(p, g, id)]));
  }

  /** What the caller's credential may do in one project of `g` (the caller's role sources). */
  private credentialPermissions(p: Principal, g: UserRoleSources, projectId: string): string[] {
    const sources = [...(g.byProject.get(projectId) ?? [])];
    if (isServerAdmin(p) && !sources.some((s) => s.kind === 'server'))
      sources.push({ kind: 'server', role: 'admin' });
    return narrowProjectPermissions(p, projectId, evaluate(sources, p.role).permissions);
  }

  /** Of these projects, those the caller may see. */
  async visibleProjectIds(p: Principal, projectIds: string[], tx?: Tx): Promise<Set<string>> {
    const perms = await this.projectPermissions(p, projectIds, tx);
    return new Set(projectIds.filter((id) => permits(perms.get(id) ?? [], 'projects.read')));
  }

  /** Every source of every project role the user holds (restricted to `projectIds`), one query. */
  async roleSources(
    userId: string,
    projectIds: string[] | null,
    tx?: Tx,
  ): Promise<UserRoleSources> {
    if (projectIds !== null && projectIds.length === 0) {
      return { serverRole: null, byProject: new Map() };
    }
    const rows = await this.repo.roleSourcesOf(userId, projectIds, tx);
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

  /**
   * What a user holds per project, not narrowed by any credential (projects where they hold
   * nothing are left out): what a grant's access token is intersected with.
   */
  async permissionsByProject(
    userId: string,
    projectIds?: string[],
    tx?: Tx,
  ): Promise<Record<string, string[]>> {
    const g = await this.roleSources(userId, projectIds ? [...new Set(projectIds)] : null, tx);
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
    return effectiveIn(await this.roleSources(userId, [projectId], tx), projectId);
  }

  /**
   * The projects a user belongs to (directly, through a group, or as workspace admin), with what
   * they hold in each, limited to those the viewer may see.
   */
  async projectsOfUser(userId: string, viewer: Principal): Promise<UserProject[]> {
    const g = await this.roleSources(userId, null);
    const held = new Map(
      [...g.byProject.entries()]
        .filter(([, sources]) => sources.some((s) => s.kind !== 'server'))
        .map(([id, sources]) => [id, evaluate(sources, g.serverRole ?? 'reader').permissions]),
    );
    const visible = await this.visibleProjectIds(viewer, [...held.keys()]);
    const projects = await this.repo.findProjects([...visible]);
    return projects.map((x) => ({
      id: x.id,
      name: x.name,
      workspaceId: x.workspaceId,
      permissions: held.get(x.id) ?? [],
    }));
  }
}
