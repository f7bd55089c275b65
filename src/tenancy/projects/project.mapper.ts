import type { ServerRole } from '#src/kernel/principal.js';
import type { Project } from '#src/tenancy/entities/project.entity.js';
import {
  cappedRolePermissions,
  ROLE_PERMISSIONS,
  type ProjectRole,
} from '#src/tenancy/access/project-roles.js';
import type { MemberRow } from '#src/tenancy/projects/projects.repository.js';

export interface ProjectResponse {
  id: string;
  name: string;
  workspace: string;
  workspaceId: string;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** The caller's effective permissions in this project. */
  permissions: string[];
}

export interface ProjectMemberResponse {
  projectId: string;
  memberId: string;
  memberType: 'user' | 'group';
  projectRole: string;
  serverRole?: string;
  email?: string;
  fullName?: string | null;
  name?: string;
  /** What this membership confers: the role's permissions, capped by the member's server role. */
  permissions: string[];
}

export function toProjectResponse(
  p: Project,
  domain: string,
  permissions: string[],
): ProjectResponse {
  return {
    id: p.id,
    name: p.name,
    workspace: domain,
    workspaceId: p.workspaceId,
    createdBy: p.createdBy,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    version: p.version,
    permissions,
  };
}

export function toMemberResponse(projectId: string, m: MemberRow): ProjectMemberResponse {
  const role = m.role as ProjectRole;
  if (m.memberType === 'group') {
    return {
      projectId,
      memberId: m.memberId,
      memberType: 'group',
      projectRole: role,
      name: m.groupName ?? '',
      permissions: [...ROLE_PERMISSIONS[role]],
    };
  }
  return {
    projectId,
    memberId: m.memberId,
    memberType: 'user',
    projectRole: role,
    serverRole: m.serverRole ?? undefined,
    email: m.email ?? '',
    fullName: m.fullName,
    permissions: cappedRolePermissions(role, (m.serverRole as ServerRole | null) ?? null),
  };
}
