import { AuthService } from '#src/auth/auth.service.js';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { UserToken } from '#src/auth/entities/user-token.entity.js';
import { User } from '#src/users/user.entity.js';
import type { TestApp } from '../support/app.js';

export const API = '/api/v1';

/** Signs in by password; returns the raw response (status checked by the caller). */
export function login(t: TestApp, username: string, password: string, ip?: string) {
  const req = t.http.post(`${API}/auth/login`).send({ username, password });
  return ip ? req.set('X-Forwarded-For', ip) : req;
}

/** The user's row, once failed sign-ins (written after their 401) have reached the database. */
export async function userRow(t: TestApp, id: string): Promise<User> {
  await t.get(AuthService).settleFailures();
  return t.db.getRepository(User).findOneByOrFail({ id });
}

/** The user row with its (normally unselected) password hash. */
export function userWithPasswordHash(t: TestApp, id: string): Promise<User> {
  return t.db
    .getRepository(User)
    .createQueryBuilder('u')
    .addSelect('u.passwordHash')
    .where('u.id = :id', { id })
    .getOneOrFail();
}

export function userByEmail(t: TestApp, email: string): Promise<User | null> {
  return t.db.getRepository(User).findOneBy({ emailNormalized: email.toLowerCase() });
}

export function sessionsOf(t: TestApp, userId: string): Promise<Session[]> {
  return t.db.getRepository(Session).find({ where: { userId }, order: { createdAt: 'ASC' } });
}

export function tokensOf(t: TestApp, userId: string): Promise<UserToken[]> {
  return t.db.getRepository(UserToken).find({ where: { userId }, order: { createdAt: 'ASC' } });
}

/** Audit entries about one target, oldest first, with their parsed changes. */
export async function auditOf(
  t: TestApp,
  targetId: string,
  action?: string,
): Promise<(AuditEntry & { parsed: Record<string, unknown> })[]> {
  const rows = await t.db
    .getRepository(AuditEntry)
    .find({ where: { targetId, ...(action ? { action } : {}) } });
  return rows
    .sort((a, b) => Number(a.seq) - Number(b.seq))
    .map((r) => Object.assign(r, { parsed: JSON.parse(r.changes) as Record<string, unknown> }));
}

/** A string of exactly `bytes` UTF-8 bytes made of two-byte characters (plus one ASCII when odd). */
export function passwordOfBytes(bytes: number): string {
  return 'é'.repeat(Math.floor(bytes / 2)) + (bytes % 2 ? 'a' : '');
}
