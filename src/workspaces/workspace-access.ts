import { permits } from '../common/permissions.js';
import type { Principal } from '../auth/principal.js';

/** Holders of `workspaces.manage` (server admins) administer every workspace, group and project. */
export function isServerAdmin(p: Principal): boolean {
  return permits(p.permissions, 'workspaces.manage');
}

/** Server roles `reader` and `demo` never write, whatever their workspace or project roles. */
export function writesAllowed(p: Principal): boolean {
  return p.role !== 'reader' && p.role !== 'demo';
}
