import type { Workspace, WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';

export interface ProjectSummary {
  id: string;
  name: string;
}

export interface WorkspaceResponse {
  id: string;
  domain: string;
  title: string;
  /** The caller's workspace role; null for a server admin who is not a member. */
  role: WorkspaceRole | null;
  /** Members without a second factor must enrol one at their next sign-in. */
  mfaRequired: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
  projects?: ProjectSummary[];
}

export function toWorkspaceResponse(
  w: Workspace,
  role: WorkspaceRole | null,
  projects?: ProjectSummary[],
): WorkspaceResponse {
  return {
    id: w.id,
    domain: w.domain,
    title: w.title,
    role,
    mfaRequired: w.mfaRequired,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
    version: w.version,
    ...(projects ? { projects } : {}),
  };
}
