import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from '#src/kernel/principal.js';

/** A way of turning a bearer token into a principal (sessions, API keys, access tokens). */
export interface CredentialResolver {
  /** Cheap, offline test of the token's shape (prefix, checksum); no database work. */
  accepts(token: string): boolean;
  /** The principal, or null when the token is unknown, revoked or expired. */
  resolve(token: string, req: Request, via: 'header' | 'cookie'): Promise<Principal | null>;
}

/** Modules register their resolvers at init, so the guard knows none of them by name. */
@Injectable()
export class CredentialRegistry {
  private readonly resolvers: CredentialResolver[] = [];

  register(resolver: CredentialResolver): void {
    this.resolvers.push(resolver);
  }

  find(token: string): CredentialResolver | undefined {
    return this.resolvers.find((r) => r.accepts(token));
  }
}
