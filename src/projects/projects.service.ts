import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '../common/http/pagination.js';
import { permits } from '../common/permissions.js';
import { Database, isUniqueViolation, type Tx } from '../database/database.service.js';
import { newId } from '../database/ids.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, ServerRole } from '../auth/principal.js';
import { GroupsService } from '../groups/groups.service.js';
import { PermissionCatalogue } from '../users/permission-catalogue.js';
import { UsersService } from '../users/users.service.js';
import type { UserProject } from '../users/user.mapper.js';
import { isServerAdmin } from '../workspaces/workspace-access.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { ProjectAccessService } from './project-access.service.js';
import { newProjectMember } from './project-member.entity.js';
import { Project } from './project.entity.js';
import { toProjectResponse, type ProjectResponse } from './project.mapper.js';
import {
  evaluate,
  PROJECT_PERMISSION_TYPES,
  type PermissionExplanation,
  type PermissionSource,
} from './project-roles.js';
import { ProjectsRepository } from './projects.repository.js';

export interface ProjectPermissionsResponse {
  projectId: string;
  userId: string;
  serverRole: ServerRole | null;
  permissions: string[];
  sources?: PermissionSource[];
  explain?: PermissionExplanation[];
}

export type { UserProject };

/** A project the caller may see, with their permissions in it. */
export interface ProjectView {
  project: Project;
  permissions: string[];
}

@Injectable()
export class ProjectsService implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly repo: ProjectsRepository,
    private readonly access: ProjectAccessService,
    private readonly workspaces: WorkspacesService,
    private readonly groups: GroupsService,
    private readonly audit: AuditService,
    private readonly catalogue: PermissionCatalogue,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    this.catalogue.register(PROJECT_PERMISSION_TYPES);
    // GET /users/:id?includeProjects=true (the route admits only the user and user readers).
    this.users.setProjectsOfUserProvider((userId) => this.projectsOfUser(userId));
    this.workspaces.addHook({
      onMemberRemoved: (tx, workspaceId, userId) =>
        this.repo.removeUserFromWorkspaceProjects(tx, workspaceId, userId),
      onDeleting: (tx, workspaceId) => this.repo.deleteInWorkspace(tx, workspaceId),
    });
    this.workspaces.setProjectsProvider(async (p, workspaceIds) => {
      const projects = await this.repo.projectsInWorkspaces(workspaceIds);
      const perms = await this.access.actorPermissions(
        p,
        projects.map((x) => x.id),
      );
      const out: Record<string, { id: string; name: string }[]> = {};
      for (const x of projects) {
        if (!permits(perms.get(x.id) ?? [], 'projects.read')) continue;
        (out[x.workspaceId] ??= []).push({ id: x.id, name: x.name });
      }
      return out;
    });
  }

  // For other modules

  /**
   * Effective permissions of a user per project, in one query: union of the direct membership,
   * every group membership and workspace adminship, capped by the server role (server admins: all).
   * Projects where the user holds nothing are left out. Issue 5 narrows credentials with it.
   */
  permissionsByProject(userId: string, projectIds?: string[]): Promise<Record<string, string[]>> {
    return this.access.permissionsByProject(userId, projectIds);
  }

  /** The projects a user belongs to (directly, through a group, or as workspace admin). */
  async projectsOfUser(userId: string): Promise<UserProject[]> {
    const g = await this.access.grants(userId, null);
    const held = new Map(
      [...g.byProject.entries()]
        .filter(([, sources]) => sources.some((s) => s.kind !== 'server'))
        .map(([id, sources]) => [id, evaluate(sources, g.serverRole ?? 'reader').permissions]),
    );
    const projects = await this.repo.findByIds([...held.keys()]);
    return projects.map((x) => ({
      id: x.id,
      name: x.name,
      workspaceId: x.workspaceId,
      permissions: held.get(x.id) ?? [],
    }));
  }

  /** The project with the caller's permissions; 404 when they may not see it. */
  async requireVisible(p: Principal, projectId: string, tx?: Tx): Promise<ProjectView> {
    const project = await this.repo.findById(projectId, tx);
    if (!project) throw AppException.notFound('Project');
    const permissions = await this.access.actorPermissionsIn(p, project.id, tx);
    if (!permits(permissions, 'projects.read')) throw AppException.notFound('Project');
    return { project, permissions };
  }

  /** Visible (404) and holding `permission` (403). */
  async requirePermission(
    p: Principal,
    projectId: string,
    permission: string,
    tx?: Tx,
  ): Promise<ProjectView> {
    const v = await this.requireVisible(p, projectId, tx);
    if (!permits(v.permissions, permission))
      throw AppException.forbidden(`This needs the project permission ${permission}.`);
    return v;
  }

  // Routes

  async create(p: Principal, name: string, workspace: string): Promise<ProjectResponse> {
    const ws = await this.workspaces.requireAccess(p, workspace);
    if (!ws.contributor)
      throw AppException.forbidden('Only workspace admins and users can create projects.');
    const project = await this.db.transaction(async (tx) => {
      const x = new Project();
      x.id = newId();
      x.workspaceId = ws.workspace.id;
      x.name = name.trim();
      x.nameNormalized = x.name.toLowerCase();
      x.createdBy = p.userId;
      x.createdAt = new Date();
      x.updatedAt = x.createdAt;
      x.version = 1;
      await this.conflictOnDuplicate(() => this.repo.insert(tx, x));
      await this.repo.insertMember(
        tx,
        newProjectMember(x.id, 'user', p.userId, 'admin', x.createdAt),
      );
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'project.create',
        targetType: 'project',
        targetId: x.id,
        changes: { name: x.name, workspaceId: x.workspaceId, admin: p.userId },
      });
      return x;
    });
    const perms = await this.access.actorPermissionsIn(p, project.id);
    return toProjectResponse(project, ws.workspace.domain, perms);
  }

  async list(
    p: Principal,
    q: { workspace?: string; limit?: number; cursor?: string },
  ): Promise<Page<ProjectResponse>> {
    const limit = q.limit ?? 50;
    const workspaceIds =
      q.workspace !== undefined
        ? [(await this.workspaces.requireAccess(p, q.workspace)).workspace.id]
        : null;
    const after = decodeCursor(q.cursor, 1)?.[0];
    const rows = await this.repo.listVisible({
      userId: p.userId,
      all: isServerAdmin(p),
      workspaceIds,
      after: after === undefined ? null : String(after),
      limit: limit + 1,
    });
    const page = toPage(
      rows,
      limit,
      (r) => [r.id],
      (r) => r,
    );
    const perms = await this.access.actorPermissions(
      p,
      page.items.map((r) => r.id),
    );
    const domains = await this.repo.domainsOf(page.items.map((r) => r.workspaceId));
    return {
      // A narrowed credential (scopes, grant) may see fewer than its owner: filter the page too.
      items: page.items
        .filter((r) => permits(perms.get(r.id) ?? [], 'projects.read'))
        .map((r) => toProjectResponse(r, domains.get(r.workspaceId) ?? '', perms.get(r.id) ?? [])),
      nextCursor: page.nextCursor,
    };
  }

  async get(p: Principal, id: string): Promise<ProjectResponse> {
    const v = await this.requireVisible(p, id);
    return toProjectResponse(
      v.project,
      await this.repo.domainOf(v.project.workspaceId),
      v.permissions,
    );
  }

  async update(p: Principal, id: string, name: string): Promise<ProjectResponse> {
    const project = await this.db.transaction(async (tx) => {
      await this.repo.lock(tx, id);
      const v = await this.requirePermission(p, id, 'projects.update', tx);
      await this.conflictOnDuplicate(() =>
        this.repo.update(tx, v.project, {
          name: name.trim(),
          nameNormalized: name.trim().toLowerCase(),
        }),
      );
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'project.update',
        targetType: 'project',
        targetId: id,
        changes: { name: { from: v.project.name, to: name.trim() } },
      });
      return this.repo.findById(id, tx);
    });
    if (!project) throw AppException.notFound('Project');
    const perms = await this.access.actorPermissionsIn(p, id);
    return toProjectResponse(project, await this.repo.domainOf(project.workspaceId), perms);
  }

  /** Deletes the project, its memberships and the groups scoped to it, in one transaction. */
  async remove(p: Principal, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.repo.lock(tx, id);
      const v = await this.requirePermission(p, id, 'projects.delete', tx);
      const members = await this.repo.listMembers(id, null, 10_000);
      await this.groups.deleteForProject(tx, id);
      await this.repo.delete(tx, id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'project.delete',
        targetType: 'project',
        targetId: id,
        changes: {
          before: {
            name: v.project.name,
            workspaceId: v.project.workspaceId,
            members: members.map((m) => ({
              memberId: m.memberId,
              memberType: m.memberType,
              role: m.role,
            })),
          },
        },
      });
    });
  }

  /** Self, or a project admin asking about anyone; with `explain`, where each permission comes from. */
  async permissions(
    p: Principal,
    id: string,
    userId: string | undefined,
    explain: boolean,
  ): Promise<ProjectPermissionsResponse> {
    const v = await this.requireVisible(p, id);
    const target = userId === undefined || userId === 'me' ? p.userId : userId;
    if (target !== p.userId && !permits(v.permissions, 'projects.members.manage'))
      throw AppException.forbidden("Only project admins can read another user's permissions.");
    // One query: it also reads the user's server role, which is null when there is no such user.
    const e = await this.access.effective(target, id);
    if (e.serverRole === null) throw AppException.notFound('User');
    return {
      projectId: id,
      userId: target,
      serverRole: e.serverRole,
      permissions: e.permissions,
      ...(explain ? { sources: e.sources, explain: e.explain } : {}),
    };
  }

  private async conflictOnDuplicate(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isUniqueViolation(err))
        throw AppException.conflict('A project with this name already exists here.', 'name');
      throw err;
    }
  }
}
