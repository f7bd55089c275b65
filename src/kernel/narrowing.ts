import { intersectPermissions, permits } from '#src/kernel/permissions.js';
import type { Principal } from '#src/kernel/principal.js';

/**
 * Credential narrowing, in one place. A credential acts with what its holder may do, narrowed:
 * an API key by its scopes (server and project permissions alike), a grant's access token by the
 * project permissions it was minted with. Every check in the service goes through these.
 */
export type Narrowing = Pick<Principal, 'scopes' | 'projectPermissions'>;

/** The server permissions a credential carries: the holder's, intersected with the key's scopes. */
export function narrowServerPermissions(
  held: readonly string[],
  scopes: string[] | null,
): string[] {
  return scopes === null ? [...held] : intersectPermissions(held, scopes);
}

/** The permissions a credential carries in one project: the holder's there, narrowed. */
export function narrowProjectPermissions(
  n: Narrowing,
  projectId: string,
  held: readonly string[],
): string[] {
  let perms = [...held];
  if (n.scopes !== null) perms = intersectPermissions(perms, n.scopes);
  if (n.projectPermissions !== null)
    perms = intersectPermissions(perms, n.projectPermissions[projectId] ?? []);
  return perms;
}

/** Whether the credential is narrowed at all (a key with scopes, a grant with project permissions). */
export function isNarrowed(n: Narrowing): boolean {
  return n.scopes !== null || n.projectPermissions !== null;
}

/**
 * Writes at workspace and group level (and creating projects and groups there): a key's scopes must
 * cover `workspaces.manage` (`*`, `workspaces.*`); a grant limited to some project permissions
 * carries no workspace or group rights at all.
 */
export function narrowingAllowsTenancyWrites(n: Narrowing): boolean {
  if (n.projectPermissions !== null) return false;
  return n.scopes === null || permits(n.scopes, 'workspaces.manage');
}

/**
 * A grant's project permissions in force now: the grant's list, intersected with what the owner
 * holds in each project (`null`: the grant is not narrowed and carries everything held).
 */
export function grantProjectPermissions(
  narrowing: readonly { projectId: string; permissions: string[] }[] | null,
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
