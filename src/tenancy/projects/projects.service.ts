import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { Database, isUniqueViolation } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { isNarrowed } from '#src/kernel/narrowing.js';
import { permits } from '#src/kernel/permissions.js';
import type { Principal, ServerRole } from '#src/kernel/principal.js';
import { DeclaresPermissions } from '#src/users/permission-catalogue.js';
import {
  AccessService,
  effectiveIn,
  isServerAdmin,
  type ProjectView,
} from '#src/tenancy/access/access.service.js';
import {
  PROJECT_PERMISSION_TYPES,
  type PermissionExplanation,
  type PermissionSource,
} from '#src/tenancy/access/project-roles.js';
import { newProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import { GroupsRepository } from '#src/tenancy/groups/groups.repository.js';
import { toProjectResponse, type ProjectResponse } from '#src/tenancy/projects/project.mapper.js';
import { ProjectsRepository } from '#src/tenancy/projects/projects.repository.js';
export interface ProjectPermissionsResponse {
  projectId: string;
  userId: string;
  serverRole: ServerRole | null;
  permissions: string[];
  sources?: PermissionSource[];
  explain?: PermissionExplanation[];
  /** Present (true) when the caller asked about themselves with a narrowed credential. */
  narrowedByCredential?: true;
}

// The project permission types join the catalogue that GET /permissions and key scopes use.
@Injectable()
@DeclaresPermissions(PROJECT_PERMISSION_TYPES)
export class ProjectsService {
  constructor(
    private readonly db: Database,
    private readonly repo: ProjectsRepository,
    private readonly access: AccessService,
    private readonly groups: GroupsRepository,
    private readonly audit: AuditService,
  ) {}

  // Routes

  async create(p: Principal, name: string, workspace: string): Promise<ProjectResponse> {
    const ws = await this.access.workspace(p, { domain: workspace }, 'contributor');
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
    return toProjectResponse(project, ws.workspace.domain, await this.permissionsIn(p, project.id));
  }

  async list(
    p: Principal,
    q: { workspace?: string; limit?: number; cursor?: string },
  ): Promise<Page<ProjectResponse>> {
    const limit = q.limit ?? 50;
    const workspaceIds =
      q.workspace !== undefined
        ? [(await this.access.workspace(p, { domain: q.workspace })).workspace.id]
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
    const perms = await this.access.projectPermissions(
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

  /** The project as the route's guard judged it for the caller (`@CheckedProject()`). */
  async get(v: ProjectView): Promise<ProjectResponse> {
    return toProjectResponse(
      v.project,
      await this.repo.domainOf(v.project.workspaceId),
      v.permissions,
    );
  }

  async update(p: Principal, id: string, name: string): Promise<ProjectResponse> {
    const project = await this.db.transaction(async (tx) => {
      const v = await this.access.project(p, id, 'projects.update', { tx, lock: true });
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
    return toProjectResponse(
      project,
      await this.repo.domainOf(project.workspaceId),
      await this.permissionsIn(p, id),
    );
  }

  /** Deletes the project, its memberships and the groups scoped to it, in one transaction. */
  async remove(p: Principal, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const v = await this.access.project(p, id, 'projects.delete', { tx, lock: true });
      const members = await this.repo.listMembers(id, null, 10_000);
      await this.groups.deleteWhere(tx, { projectId: id });
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

  /**
   * Self, or a project admin asking about anyone; with `explain`, where each permission comes from.
   * `v` is the caller's view of the project as the route's guard judged it: about oneself, its
   * role sources are the answer, so the check reads the project and the roles once each.
   */
  async permissions(
    p: Principal,
    v: ProjectView,
    userId: string | undefined,
    explain: boolean,
  ): Promise<ProjectPermissionsResponse> {
    const id = v.project.id;
    const target = userId === undefined || userId === 'me' ? p.userId : userId;
    if (target !== p.userId && !permits(v.permissions, 'projects.members.manage'))
      throw AppException.forbidden("Only project admins can read another user's permissions.");
    // One query: it also reads the user's server role, which is null when there is no such user.
    const e =
      target === p.userId ? effectiveIn(v.held, id) : await this.access.effective(target, id);
    if (e.serverRole === null) throw AppException.notFound('User');
    // Asked about oneself through a narrowed credential (a scoped key, a grant's token): what this
    // credential may do here, not everything its owner holds.
    const narrowed = target === p.userId && isNarrowed(p);
    return {
      projectId: id,
      userId: target,
      serverRole: e.serverRole,
      permissions: narrowed ? v.permissions : e.permissions,
      ...(narrowed ? { narrowedByCredential: true } : {}),
      ...(explain ? { sources: e.sources, explain: e.explain } : {}),
    };
  }

  private async permissionsIn(p: Principal, projectId: string): Promise<string[]> {
    return (await this.access.projectPermissions(p, [projectId])).get(projectId) ?? [];
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
