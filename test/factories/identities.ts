import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { UserIdentitiesRepository } from '#src/auth/oidc/user-identities.repository.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import type { TestApp } from '../support/app.js';

/** Links an (issuer, subject) to a user as browser sign-in would, through the real repository. */
export async function linkIdentity(
  t: TestApp,
  userId: string,
  providerId: string,
  issuer: string,
  subject: string,
): Promise<UserIdentity> {
  const row = new UserIdentity();
  row.id = newId();
  row.userId = userId;
  row.providerId = providerId;
  row.issuer = issuer;
  row.subject = subject;
  row.email = null;
  row.createdAt = new Date();
  row.lastUsedAt = null;
  await t.get(Database).transaction((tx) => t.get(UserIdentitiesRepository).insert(tx, row));
  return row;
}
