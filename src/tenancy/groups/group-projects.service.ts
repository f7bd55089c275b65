import { Injectable } from '@nestjs/common';
import { AuditService } from '#src/audit/audit.service.js';
import { AppException } from '#src/common/errors/app.exception.js';
import type { Tx } from '#src/database/database.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { holdsRole, type ProjectRole } from '#src/tenancy/access/project-roles.js';
import type { Group } from '#src/tenancy/entities/group.entity.js';
import { newProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { assertGroupFits, auditMemberChange } from '#src/tenancy/projects/project-membership.js';
import {
  ProjectsRepository,
  type GroupProjectRow,
} from '#src/tenancy/projects/projects.repository.js';

/** The project memberships of groups: what a group's `projects` list and its members touch. */
@Injectable()
export class GroupProjectsService {
  constructor(
    private readonly repo: ProjectsRepository,
    private readonly access: AccessService,
    private readonly audit: AuditService,
  ) {}

  /** Project memberships of these groups. */
  projectsOf(groupIds: string[], tx?: Tx): Promise<GroupProjectRow[]> {
    return this.repo.groupProjects(groupIds, tx);
  }

  /**
   * 403 unless the actor holds, in every project the group is a member of, all permissions of the
   * group's role there: adding someone to the group hands them exactly that (anti-escalation).
   */
  async assertActorCoversGroup(tx: Tx, p: Principal, group: Group): Promise<void> {
    const rows = await this.repo.groupProjects([group.id], tx);
    if (rows.length === 0) return;
    const perms = await this.access.projectPermissions(
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

  /** Makes the group a member of exactly these projects (new ones as reader). */
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
      const project = await this.access.requireMembersManager(tx, p, id, ['reader']);
      assertGroupFits(group, project);
      const m = newProjectMember(id, 'group', group.id, 'reader');
      await this.repo.insertMember(tx, m);
      await auditMemberChange(this.audit, tx, p, 'project.member_add', m, null, 'reader');
    }
    for (const r of removed) {
      await this.access.requireMembersManager(tx, p, r.projectId, [r.role as ProjectRole]);
      await this.repo.deleteMember(tx, r.projectId, group.id);
      await auditMemberChange(
        this.audit,
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

  /** The project a group is scoped to: visible to the caller (404) and in the workspace (422). */
  async requireScopeProject(
    p: Principal,
    projectId: string,
    workspaceId: string,
    tx?: Tx,
  ): Promise<void> {
    const v = await this.access.project(p, projectId, 'projects.read', { tx });
    if (v.project.workspaceId !== workspaceId) {
      throw AppException.rule(
        'project_in_other_workspace',
        'The project belongs to another workspace.',
        'projectId',
      );
    }
  }
}
