import { AppException } from '#src/common/errors/app.exception.js';
import { permits } from '#src/kernel/permissions.js';
import type { Principal } from '#src/kernel/principal.js';

/**
 * Anti-escalation: a caller may only grant (or manage a holder of) permissions they hold themselves.
 * A `users.manage` holder who is not an admin cannot create admins, change an admin's password or
 * put `*` into a role.
 */
export function assertHoldsAll(p: Principal, permissions: readonly string[], what: string): void {
  const missing = [...new Set(permissions)].filter((x) => !permits(p.permissions, x));
  if (missing.length) {
    throw AppException.forbidden(
      `${what} needs permissions you do not hold: ${missing.sort().join(', ')}.`,
    );
  }
}

export function can(p: Principal, permission: string): boolean {
  return permits(p.permissions, permission);
}
