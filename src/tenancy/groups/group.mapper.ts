import type { Group } from '#src/tenancy/entities/group.entity.js';
import type { GroupMemberRow } from '#src/tenancy/groups/groups.repository.js';

export interface GroupMemberResponse {
  id: string;
  email: string;
  fullName: string | null;
  role: string;
  status: string;
}

export interface GroupResponse {
  id: string;
  name: string;
  workspace: string;
  workspaceId: string;
  projectId: string | null;
  ownerId: string | null;
  settings: Record<string, unknown>;
  members: GroupMemberResponse[];
  projects?: { projectId: string; name: string; role: string }[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function toGroupResponse(
  g: Group,
  domain: string,
  members: GroupMemberRow[],
  projects?: { projectId: string; name: string; role: string }[],
): GroupResponse {
  return {
    id: g.id,
    name: g.name,
    workspace: domain,
    workspaceId: g.workspaceId,
    projectId: g.projectId,
    ownerId: g.ownerId,
    settings: g.settings,
    members: members
      .filter((m) => m.groupId === g.id)
      .map((m) => ({
        id: m.id,
        email: m.email,
        fullName: m.fullName,
        role: m.role,
        status: m.status,
      })),
    ...(projects ? { projects } : {}),
    createdAt: g.createdAt.toISOString(),
    updatedAt: g.updatedAt.toISOString(),
    version: g.version,
  };
}
