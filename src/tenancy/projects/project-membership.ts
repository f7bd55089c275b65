import type { AuditService } from '#src/audit/audit.service.js';
import { AppException } from '#src/common/errors/app.exception.js';
import type { Tx } from '#src/database/database.service.js';
import type { Principal } from '#src/kernel/principal.js';
import type { Group } from '#src/tenancy/entities/group.entity.js';
import type { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import type { Project } from '#src/tenancy/entities/project.entity.js';

// The rules of project membership shared by the members routes and the groups routes (a group's
// `projects` list changes project memberships too).

/** A group may join only projects of its own workspace, and only its own project when scoped. */
export function assertGroupFits(group: Group, project: Project): void {
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

/** One audit entry per membership change, in the caller's transaction. */
export function auditMemberChange(
  audit: AuditService,
  tx: Tx,
  p: Principal,
  action: 'project.member_add' | 'project.member_role' | 'project.member_remove',
  m: Pick<ProjectMember, 'projectId' | 'memberId' | 'memberType'>,
  from: string | null,
  to: string | null,
): Promise<void> {
  return audit.record(tx, {
    actorId: p.userId,
    action,
    targetType: 'project',
    targetId: m.projectId,
    changes: { memberId: m.memberId, memberType: m.memberType, role: { from, to } },
  });
}
