import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '../common/http/pagination.js';
import { permits } from '../common/permissions.js';
import { Database, type Tx } from '../database/database.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import type { Group } from '../groups/group.entity.js';
import type { GroupProjectsPort } from '../groups/group-projects.port.js';
import { GroupsService } from '../groups/groups.service.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { ProjectAccessService } from './project-access.service.js';
import { newProjectMember, type ProjectMember } from './project-member.entity.js';
import type { Project } from './project.entity.js';
import { toMemberResponse, type ProjectMemberResponse } from './project.mapper.js';
import { holdsRole, type ProjectRole } from './project-roles.js';
import { ProjectsRepository } from './projects.repository.js';
import { ProjectsService } from './projects.service.js';

export interface NewProjectMember {
  role: ProjectRole;
  userId?: string;
  groupId?: string;
}

/** Project members (users or whole groups), with anti-escalation and the last-admin rule. */
@Injectable()
export class ProjectMembersService implements OnModuleInit, GroupProjectsPort {
  constructor(
    private readonly db: Database,
    private readonly repo: ProjectsRepository,
    private readonly access: ProjectAccessService,
    private readonly projects: ProjectsService,
    private readonly groups: GroupsService,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.groups.setProjectsPort(this);
  }

  async list(
    p: Principal,
    projectId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ProjectMemberResponse>> {
    await this.projects.requirePermission(p, projectId, 'projects.members.read');
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await this.repo.listMembers(
      projectId,
      after === undefined ? null : String(after),
      limit + 1,
    );
    return toPage(
      rows,
      limit,
      (r) => [r.memberId],
      (r) => toMemberResponse(projectId, r),
    );
  }

  async add(
    p: Principal,
    projectId: string,
    input: NewProjectMember,
  ): Promise<ProjectMemberResponse> {
    if ((input.userId === undefined) === (input.groupId === undefined)) {
      throw new AppException('validation_failed', 'Give exactly one of userId and groupId.', [
        { field: 'userId', message: 'give exactly one of userId and groupId' },
        { field: 'groupId', message: 'give exactly one of userId and groupId' },
      ]);
    }
    return this.db.transaction(async (tx) => {
      const project = await this.requireManager(tx, p, projectId, [input.role]);
      let m: ProjectMember;
      if (input.userId !== undefined) {
        // Isolation: only members of the project's workspace (422 whether the id exists or not).
        const outside = await this.workspaces.nonMembers(project.workspaceId, [input.userId], tx);
        if (outside.length) {
          throw AppException.rule(
            'not_workspace_member',
            "Only members of the project's workspace can become project members.",
            'userId',
          );
        }
        m = newProjectMember(projectId, 'user', input.userId, input.role);
      } else {
        const group = (await this.groups.requireAccess(p, input.groupId ?? '', tx)).group;
        this.assertGroupFits(group, project);
        m = newProjectMember(projectId, 'group', group.id, input.role);
      }
      if (await this.repo.findMember(projectId, m.memberId, tx))
        throw AppException.conflict('Already a member of this project.', m.memberType + 'Id');
      await this.repo.insertMember(tx, m);
      await this.auditMember(tx, p, 'project.member_add', m, null, m.role);
      const row = await this.repo.memberRow(projectId, m.memberId, tx);
      if (!row) throw AppException.notFound('Project member');
      return toMemberResponse(projectId, row);
    });
  }

  async changeRole(
    p: Principal,
    projectId: string,
    memberId: string,
    role: ProjectRole,
  ): Promise<ProjectMemberResponse> {
    return this.db.transaction(async (tx) => {
      await this.requireManager(tx, p, projectId, [role]);
      const existing = await this.requireMember(tx, p, projectId, memberId);
      if (existing.memberType === 'user' && existing.role === 'admin' && role !== 'admin')
        await this.assertNotLastAdmin(tx, projectId);
      await this.repo.setMemberRole(tx, projectId, memberId, role);
      await this.auditMember(tx, p, 'project.member_role', existing, existing.role, role);
      const row = await this.repo.memberRow(projectId, memberId, tx);
      if (!row) throw AppException.notFound('Project member');
      return toMemberResponse(projectId, row);
    });
  }

  async remove(p: Principal, projectId: string, memberId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.requireManager(tx, p, projectId, []);
      const existing = await this.requireMember(tx, p, projectId, memberId);
      if (existing.memberType === 'user' && existing.role === 'admin')
        await this.assertNotLastAdmin(tx, projectId);
      await this.repo.deleteMember(tx, projectId, memberId);
      await this.auditMember(tx, p, 'project.member_remove', existing, existing.role, null);
    });
  }

  // GroupProjectsPort: what the groups module asks of projects

  projectsOf(groupIds: string[], tx?: Tx) {
    return this.repo.groupProjects(groupIds, tx);
  }

  async visibleProjectIds(p: Principal, projectIds: string[]): Promise<Set<string>> {
    const perms = await this.access.actorPermissions(p, projectIds);
    return new Set(projectIds.filter((id) => permits(perms.get(id) ?? [], 'projects.read')));
  }

  async assertActorCoversGroup(tx: Tx, p: Principal, group: Group): Promise<void> {
    const rows = await this.repo.groupProjects([group.id], tx);
    if (rows.length === 0) return;
    const perms = await this.access.actorPermissions(
      p,
      rows.map((r) => r.projectId),
      tx,
    );
    for (const r of rows) {
      if (!holdsRole(perms.get(r.projectId) ?? [], r.role as ProjectRole)) {
        throw AppException.forbidden(
          `Adding members to this group would give them the role ${r.role} in project ${r.projectName}, which you do not hold.`,
        );
      }
    }
  }

  async setGroupProjects(
    tx: Tx,
    p: Principal,
    group: Group,
    projectIds: string[],
  ): Promise<{ added: string[]; removed: string[] }> {
    const current = await this.repo.groupProjects([group.id], tx);
    const added = projectIds.filter((id) => !current.some((r) => r.projectId === id));
    const removed = current.filter((r) => !projectIds.includes(r.projectId));
    for (const id of added) {
      const project = await this.requireManager(tx, p, id, ['reader']);
      this.assertGroupFits(group, project);
      const m = newProjectMember(id, 'group', group.id, 'reader');
      await this.repo.insertMember(tx, m);
      await this.auditMember(tx, p, 'project.member_add', m, null, 'reader');
    }
    for (const r of removed) {
      await this.requireManager(tx, p, r.projectId, [r.role as ProjectRole]);
      await this.repo.deleteMember(tx, r.projectId, group.id);
      await this.auditMember(
        tx,
        p,
        'project.member_remove',
        { projectId: r.projectId, memberId: group.id, memberType: 'group' },
        r.role,
        null,
      );
    }
    return { added, removed: removed.map((r) => r.projectId) };
  }

  async requireScopeProject(
    p: Principal,
    projectId: string,
    workspaceId: string,
    tx?: Tx,
  ): Promise<void> {
    const v = await this.projects.requireVisible(p, projectId, tx);
    if (v.project.workspaceId !== workspaceId) {
      throw AppException.rule(
        'project_in_other_workspace',
        'The project belongs to another workspace.',
        'projectId',
      );
    }
  }

  // Helpers

  /** One audit entry per membership change, in the caller's transaction. */
  private auditMember(
    tx: Tx,
    p: Principal,
    action: 'project.member_add' | 'project.member_role' | 'project.member_remove',
    m: Pick<ProjectMember, 'projectId' | 'memberId' | 'memberType'>,
    from: string | null,
    to: string | null,
  ): Promise<void> {
    return this.audit.record(tx, {
      actorId: p.userId,
      action,
      targetType: 'project',
      targetId: m.projectId,
      changes: { memberId: m.memberId, memberType: m.memberType, role: { from, to } },
    });
  }

  /**
   * Visible (404), holding projects.members.manage and every permission of each role in `roles`
   * (403: nobody grants what they do not hold), with the project row locked for the transaction.
   */
  private async requireManager(
    tx: Tx,
    p: Principal,
    projectId: string,
    roles: ProjectRole[],
  ): Promise<Project> {
    // Lock first: on MySQL the reads below then see the latest committed memberships (an actor
    // demoted by a concurrent request is refused here, not judged on a stale snapshot).
    await this.repo.lock(tx, projectId);
    const v = await this.projects.requirePermission(p, projectId, 'projects.members.manage', tx);
    for (const role of roles) {
      if (!holdsRole(v.permissions, role))
        throw AppException.forbidden(`You cannot grant the role ${role}: you do not hold it.`);
    }
    return v.project;
  }

  /** The member (404), and the actor must hold its current role to change or remove it. */
  private async requireMember(
    tx: Tx,
    p: Principal,
    projectId: string,
    memberId: string,
  ): Promise<ProjectMember> {
    const existing = await this.repo.lockMember(tx, projectId, memberId);
    if (!existing) throw AppException.notFound('Project member');
    const held = await this.access.actorPermissionsIn(p, projectId, tx);
    if (!holdsRole(held, existing.role))
      throw AppException.forbidden(`You cannot change a member holding ${existing.role}.`);
    return existing;
  }

  private assertGroupFits(group: Group, project: Project): void {
    if (group.workspaceId !== project.workspaceId) {
      throw AppException.rule(
        'group_in_other_workspace',
        "Only groups of the project's workspace can become project members.",
        'groupId',
      );
    }
    if (group.projectId !== null && group.projectId !== project.id) {
      throw AppException.rule(
        'group_scoped_elsewhere',
        'This group belongs to another project.',
        'groupId',
      );
    }
  }

  private async assertNotLastAdmin(tx: Tx, projectId: string): Promise<void> {
    const admins = await this.repo.lockUserAdmins(tx, projectId);
    if (admins.length <= 1) {
      throw AppException.rule(
        'last_project_admin',
        'A project keeps at least one admin: make someone else admin first.',
        'role',
      );
    }
  }
}
