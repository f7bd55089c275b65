import { isWritePermission, permits } from '#src/kernel/permissions.js';
import type { ServerRole } from '#src/kernel/principal.js';
import type { PermissionType } from '#src/users/permission-catalogue.js';

export type ProjectRole = 'reader' | 'member' | 'admin';
export const PROJECT_ROLES: readonly ProjectRole[] = ['reader', 'member', 'admin'];

/** Project permission types, registered in the server's catalogue (scope `project`). */
export const PROJECT_PERMISSION_TYPES: PermissionType[] = [
  { name: 'projects.read', description: 'See the project', scope: 'project' },
  { name: 'projects.update', description: 'Rename the project', scope: 'project' },
  { name: 'projects.delete', description: 'Delete the project', scope: 'project' },
  { name: 'projects.members.read', description: "List the project's members", scope: 'project' },
  {
    name: 'projects.members.manage',
    description: 'Add, change and remove project members (never beyond what the actor holds)',
    scope: 'project',
  },
  { name: 'items.read', description: "Read the project's items", scope: 'project' },
  { name: 'items.write', description: 'Create and change items', scope: 'project' },
  { name: 'items.delete', description: 'Delete items', scope: 'project' },
];

export const ALL_PROJECT_PERMISSIONS: readonly string[] = PROJECT_PERMISSION_TYPES.map(
  (p) => p.name,
);

const READER = ['projects.read', 'projects.members.read', 'items.read'];
const MEMBER = [...READER, 'items.write', 'items.delete'];
const ADMIN = [...MEMBER, 'projects.update', 'projects.delete', 'projects.members.manage'];

/** reader < member < admin: each role holds everything the one below it holds. */
export const ROLE_PERMISSIONS: Record<ProjectRole, readonly string[]> = {
  reader: READER,
  member: MEMBER,
  admin: ADMIN,
};

/** Where one project role of a user comes from. */
export type PermissionSource =
  | { kind: 'direct'; role: ProjectRole }
  | { kind: 'group'; role: ProjectRole; groupId: string; groupName: string }
  | { kind: 'workspace'; role: 'admin' }
  | { kind: 'server'; role: 'admin' };

export interface PermissionExplanation {
  permission: string;
  granted: boolean;
  sources: PermissionSource[];
  /** Set when a source grants it but the server role withholds it (reader and demo never write). */
  cappedBy: { kind: 'server-role'; role: ServerRole } | null;
}

export interface EffectivePermissions {
  permissions: string[];
  sources: PermissionSource[];
  explain: PermissionExplanation[];
}

function permissionsOf(source: PermissionSource): readonly string[] {
  return source.kind === 'direct' || source.kind === 'group'
    ? ROLE_PERMISSIONS[source.role]
    : ALL_PROJECT_PERMISSIONS;
}

/** Union of every source, capped by the server role. Pure: the sources come from one query. */
export function evaluate(
  sources: PermissionSource[],
  serverRole: ServerRole,
): EffectivePermissions {
  const readOnly = serverRole === 'reader' || serverRole === 'demo';
  const explain: PermissionExplanation[] = [];
  for (const permission of ALL_PROJECT_PERMISSIONS) {
    const from = sources.filter((s) => permissionsOf(s).includes(permission));
    if (from.length === 0) continue;
    const capped = readOnly && isWritePermission(permission);
    explain.push({
      permission,
      granted: !capped,
      sources: from,
      cappedBy: capped ? { kind: 'server-role', role: serverRole } : null,
    });
  }
  return {
    permissions: explain.filter((e) => e.granted).map((e) => e.permission),
    sources,
    explain,
  };
}

/** A role's permissions as a server role caps them (what a member row confers on that member). */
export function cappedRolePermissions(role: ProjectRole, serverRole: ServerRole | null): string[] {
  const readOnly = serverRole === 'reader' || serverRole === 'demo';
  return ROLE_PERMISSIONS[role].filter((p) => !(readOnly && isWritePermission(p)));
}

/** True when `held` covers every permission of `role` (anti-escalation). */
export function holdsRole(held: readonly string[], role: ProjectRole): boolean {
  return ROLE_PERMISSIONS[role].every((p) => permits(held, p));
}
