import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { AuditService } from '#src/audit/audit.service.js';
import type { Principal } from '#src/kernel/principal.js';
import {
  AccessService,
  requireProjectPermission,
  type ProjectView,
} from '#src/tenancy/access/access.service.js';
import { holdsRole, type ProjectRole } from '#src/tenancy/access/project-roles.js';
import {
  newProjectMember,
  type ProjectMember,
} from '#src/tenancy/entities/project-member.entity.js';
import {
  toMemberResponse,
  type ProjectMemberResponse,
} from '#src/tenancy/projects/project.mapper.js';
import { assertGroupFits, auditMemberChange } from '#src/tenancy/projects/project-membership.js';
import { ProjectsRepository } from '#src/tenancy/projects/projects.repository.js';
import { WorkspacesService } from '#src/tenancy/workspaces/workspaces.service.js';
export interface NewProjectMember {
  role: ProjectRole;
  userId?: string;
  groupId?: string;
}

/** Project members (users or whole groups), with anti-escalation and the last-admin rule. */
@Injectable()
export class ProjectMembersService {
  constructor(
    private readonly db: Database,
    private readonly repo: ProjectsRepository,
    private readonly access: AccessService,
    private readonly workspaces: WorkspacesService,
    private readonly audit: AuditService,
  ) {}

  /** A page of members of the project the route's guard let the caller read them in. */
  async list(v: ProjectView, limit: number, cursor?: string): Promise<Page<ProjectMemberResponse>> {
    requireProjectPermission(v.permissions, 'projects.members.read');
    const projectId = v.project.id;
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
      const project = await this.access.requireMembersManager(tx, p, projectId, [input.role]);
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
        const group = (await this.access.group(p, input.groupId ?? '', 'member', { tx })).group;
        assertGroupFits(group, project);
        m = newProjectMember(projectId, 'group', group.id, input.role);
      }
      if (await this.repo.findMember(projectId, m.memberId, tx))
        throw AppException.conflict('Already a member of this project.', m.memberType + 'Id');
      await this.repo.insertMember(tx, m);
      await auditMemberChange(this.audit, tx, p, 'project.member_add', m, null, m.role);
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
      await this.access.requireMembersManager(tx, p, projectId, [role]);
      const existing = await this.requireMember(tx, p, projectId, memberId);
      if (existing.memberType === 'user' && existing.role === 'admin' && role !== 'admin')
        await this.assertNotLastAdmin(tx, projectId);
      await this.repo.setMemberRole(tx, projectId, memberId, role);
      await auditMemberChange(
        this.audit,
        tx,
        p,
        'project.member_role',
        existing,
        existing.role,
        role,
      );
      const row = await this.repo.memberRow(projectId, memberId, tx);
      if (!row) throw AppException.notFound('Project member');
      return toMemberResponse(projectId, row);
    });
  }

  async remove(p: Principal, projectId: string, memberId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.access.requireMembersManager(tx, p, projectId, []);
      const existing = await this.requireMember(tx, p, projectId, memberId);
      if (existing.memberType === 'user' && existing.role === 'admin')
        await this.assertNotLastAdmin(tx, projectId);
      await this.repo.deleteMember(tx, projectId, memberId);
      await auditMemberChange(
        this.audit,
        tx,
        p,
        'project.member_remove',
        existing,
        existing.role,
        null,
      );
    });
  }

  // Helpers

  /** The member (404), and the actor must hold its current role to change or remove it. */
  private async requireMember(
    tx: Tx,
    p: Principal,
    projectId: string,
    memberId: string,
  ): Promise<ProjectMember> {
    const existing = await this.repo.lockMember(tx, projectId, memberId);
    // Exactly this id: MySQL's collation would also match a group id in another case.
    if (!existing || existing.memberId !== memberId) throw AppException.notFound('Project member');
    const held = (await this.access.projectPermissions(p, [projectId], tx)).get(projectId) ?? [];
    if (!holdsRole(held, existing.role))
      throw AppException.forbidden(`You cannot change a member holding ${existing.role}.`);
    return existing;
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
