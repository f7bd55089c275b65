import { Injectable, SetMetadata, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { Tx } from '#src/database/database.service.js';
import type { CredentialKind, Principal } from '#src/kernel/principal.js';

/** A cache of resolved principals, emptied when what it holds may be stale. */
export interface Invalidatable {
  invalidateUser(userId: string, now?: number): void;
  clear(): void;
}

/** What resolving a credential gives: at once from a cache, or later. */
export type Resolved = Principal | null | Promise<Principal | null>;

/** A way of turning a bearer token into a principal (sessions, API keys, access tokens). */
export interface CredentialResolver {
  readonly kind: CredentialKind;
  /**
   * Cheap, offline test of the token's shape (prefix, length, or a JWT's form): whether the token
   * is of this resolver's kind. No database work.
   */
  accepts(token: string): boolean;
  /**
   * The principal, or null when the token is unknown, revoked, expired or malformed (a checksum
   * that fails is refused here, before any lookup); at once when the resolver can tell without
   * waiting (a token it never takes this way). `requestId` names the
   * request in what a refusal logs and audits: the route may have no request context.
   */
  resolve(token: string, via: 'header' | 'cookie', requestId?: string): Resolved;
  /** Ends the credential the principal signed in with (logout), in the caller's transaction. */
  revokeForLogout(tx: Tx, principal: Principal): Promise<void>;
  /** Its cache of resolved principals, emptied on any principal change. */
  readonly cache: Invalidatable;
}

const RESOLVES_CREDENTIALS = 'gatehouse:resolves-credentials';

/** Declares a provider as a CredentialResolver: the registry finds it at boot. */
export function ResolvesCredentials(): ClassDecorator {
  return SetMetadata(RESOLVES_CREDENTIALS, true);
}

/** The declared resolvers, so the guard, logout and cache invalidation know none of them by name. */
@Injectable()
export class CredentialRegistry implements OnModuleInit {
  private list: CredentialResolver[] | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    this.resolvers();
  }

  resolvers(): readonly CredentialResolver[] {
    this.list ??= this.discovery
      .getProviders()
      .filter(
        (w) => w.metatype && this.reflector.get<boolean>(RESOLVES_CREDENTIALS, w.metatype) === true,
      )
      .map((w) => w.instance as CredentialResolver);
    return this.list;
  }

  find(token: string): CredentialResolver | undefined {
    return this.resolvers().find((r) => r.accepts(token));
  }

  ofKind(kind: CredentialKind): CredentialResolver | undefined {
    return this.resolvers().find((r) => r.kind === kind);
  }
}
