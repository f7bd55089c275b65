import { intersectPermissions } from '../common/permissions.js';
import type { ProjectPermissionGrant } from './entities/grant.entity.js';

/**
 * What this module needs from the project permission model: the permissions a user holds now in
 * each project (`ProjectsService.permissionsByProject`). Kept behind this port so credentials do not
 * depend on how projects compute them.
 */
export interface ProjectPermissionSource {
  permissionsByProject(userId: string, projectIds?: string[]): Promise<Record<string, string[]>>;
}

export const PROJECT_PERMISSIONS = Symbol('ProjectPermissionSource');

/** A grant's project permissions in force now: the grant's, intersected with what the owner holds. */
export function effectiveProjectPermissions(
  narrowing: ProjectPermissionGrant[] | null,
  held: Record<string, string[]>,
): Record<string, string[]> {
  if (narrowing === null) return { ...held };
  const out: Record<string, string[]> = {};
  for (const { projectId, permissions } of narrowing) {
    const kept = intersectPermissions(held[projectId] ?? [], permissions);
    if (kept.length) out[projectId] = kept.sort();
  }
  return out;
}
