import { permits } from '../common/permissions.js';
import type { Principal } from '../auth/principal.js';

/** Holders of `workspaces.manage` (server admins) administer every workspace, group and project. */
export function isServerAdmin(p: Principal): boolean {
  return permits(p.permissions, 'workspaces.manage');
}

/**
 * Writes at workspace and group level (and creating projects there). Server roles `reader` and
 * `demo` never write, whatever their workspace or project roles. A narrowed credential never acts
 * beyond its narrowing: an API key's scopes must cover `workspaces.manage` (`*`, `workspaces.*`),
 * and a grant limited to some project permissions carries no workspace or group rights at all.
 */
export function writesAllowed(p: Principal): boolean {
  if (readOnlyRole(p)) return false;
  if (p.projectPermissions !== null) return false;
  return p.scopes === null || permits(p.scopes, 'workspaces.manage');
}

/** Server roles `reader` and `demo` never write, whatever their workspace or project roles. */
export function readOnlyRole(p: Principal): boolean {
  return p.role === 'reader' || p.role === 'demo';
}
