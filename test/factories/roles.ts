import { randomBytes } from 'node:crypto';
import { newId } from '#src/database/ids.js';
import { Role, UserRole } from '#src/users/role.entity.js';
import type { TestApp } from '../support/app.js';

export function uniqueRoleName(tag = 'role'): string {
  return `${tag}-${randomBytes(4).toString('hex')}`;
}

/** A named role written straight to the database (setup only: the routes are what tests exercise). */
export async function makeRole(
  t: TestApp,
  opts: { name?: string; permissions?: string[]; description?: string | null } = {},
): Promise<Role> {
  const role = new Role();
  role.id = newId();
  role.name = opts.name ?? uniqueRoleName();
  role.description = opts.description ?? null;
  role.permissions = opts.permissions ?? [];
  role.createdAt = new Date();
  role.updatedAt = role.createdAt;
  role.version = 1;
  await t.db.getRepository(Role).insert(role);
  return role;
}

export async function giveRole(t: TestApp, userId: string, role: Role): Promise<void> {
  await t.db.getRepository(UserRole).insert({ userId, roleId: role.id });
}
