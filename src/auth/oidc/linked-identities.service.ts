import { Injectable } from '@nestjs/common';
import type { Tx } from '#src/database/database.service.js';
import type { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { UserIdentitiesRepository } from '#src/auth/oidc/user-identities.repository.js';

/**
 * External identities linked to users (issuer + subject), as other modules see them: the
 * credentials module lists and unlinks them and token exchange finds a user by one.
 */
@Injectable()
export class LinkedIdentitiesService {
  constructor(private readonly repo: UserIdentitiesRepository) {}

  listForUser(userId: string, tx?: Tx): Promise<UserIdentity[]> {
    return this.repo.listForUser(userId, tx);
  }

  findByIssuerSubject(issuer: string, subject: string): Promise<UserIdentity | null> {
    return this.repo.findByIssuerSubject(issuer, subject);
  }

  /** Records a use of the link (token exchange, sign-in). */
  touch(id: string, at: Date): Promise<void> {
    return this.repo.touch(id, at);
  }

  unlink(tx: Tx, id: string): Promise<void> {
    return this.repo.delete(tx, id);
  }
}
