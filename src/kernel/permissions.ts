/**
 * Permission strings are dotted and may end in `*`: `projects.read.*` grants `projects.read.x`,
 * `items.*` grants every `items.` permission, and `*` grants everything.
 */
export function permissionMatches(granted: string, required: string): boolean {
  if (granted === '*' || granted === required) return true;
  if (granted.endsWith('.*')) {
    const stem = granted.slice(0, -1); // keeps the trailing dot
    return required.startsWith(stem) || required === granted.slice(0, -2);
  }
  return false;
}

export function permits(granted: readonly string[], required: string): boolean {
  return granted.some((g) => permissionMatches(g, required));
}

/** A permission is a write unless its action segment is `read` (e.g. `users.read`, `projects.read.*`). */
export function isWritePermission(permission: string): boolean {
  if (permission === '*') return true;
  const parts = permission.split('.');
  return !parts.includes('read');
}

/** What both sets grant (wildcards on either side): used to narrow a holder's permissions by scopes. */
export function intersectPermissions(held: readonly string[], limit: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of limit) if (permits(held, s)) out.add(s);
  for (const p of held) if (permits(limit, p)) out.add(p);
  return [...out];
}
