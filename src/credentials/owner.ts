import { AppException } from '#src/common/errors/app.exception.js';
import { permits } from '#src/kernel/permissions.js';
import type { Principal } from '#src/kernel/principal.js';

/** The user a `/users/:id/...` route is about: `me` is the caller. */
export function ownerId(p: Principal, id: string): string {
  return id === 'me' ? p.userId : id;
}

/** Minting a credential for oneself needs `credentials.create` (readers and demo users do not hold it). */
export function assertMayMint(p: Principal, userId: string): void {
  if (permits(p.permissions, 'users.manage')) return;
  if (p.userId === userId && permits(p.permissions, 'credentials.create')) return;
  throw AppException.forbidden('Creating credentials needs the permission credentials.create.');
}

export function parseFutureDate(field: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw AppException.invalid(field, 'must be an ISO 8601 date-time');
  if (d.getTime() <= Date.now()) throw AppException.invalid(field, 'must be in the future');
  return d;
}
