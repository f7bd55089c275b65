import { Injectable } from '@nestjs/common';
import type { Tx } from '#src/database/database.service.js';

/** Does something (a workspace the user belongs to, …) require this user to hold a second factor? */
export type MfaRequirementSource = (userId: string, tx?: Tx) => Promise<boolean>;

/**
 * Who must hold a second factor beyond MFA_REQUIRED: features above the auth layer (tenancy's
 * workspace `mfaRequired`) add a source at start-up, so sign-in asks them without importing them.
 */
@Injectable()
export class MfaRequirements {
  private readonly sources: MfaRequirementSource[] = [];

  add(source: MfaRequirementSource): void {
    this.sources.push(source);
  }

  async requiredFor(userId: string, tx?: Tx): Promise<boolean> {
    for (const source of this.sources) if (await source(userId, tx)) return true;
    return false;
  }
}
