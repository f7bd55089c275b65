import type { FastifyRequest } from 'fastify';
import { AppException } from '#src/common/errors/app.exception.js';

export type ServerRole = 'admin' | 'user' | 'demo' | 'reader';
export const SERVER_ROLES: readonly ServerRole[] = ['admin', 'user', 'demo', 'reader'];

export type UserStatus = 'pending' | 'active' | 'disabled';

/**
 * The user's row as loaded with the credential: a read-only snapshot the kernel can name without
 * knowing the users module (its entity satisfies this shape).
 */
export interface PrincipalUser {
  readonly id: string;
  /** Null for a service account. */
  readonly email: string | null;
  readonly username: string | null;
  readonly fullName: string | null;
  readonly role: ServerRole;
  readonly status: UserStatus;
  readonly emailVerified: boolean;
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

export type CredentialKind = 'session' | 'api_key' | 'access_token';

/** Who is calling, resolved once per request by the global guard. */
export interface Principal {
  userId: string;
  /** Null for a service account (a client's, acting with its client_credentials token). */
  email: string | null;
  role: ServerRole;
  roles: string[];
  /** Effective server-level permissions (server role plus named roles). */
  permissions: string[];
  credential: {
    kind: CredentialKind;
    id: string;
    /** How the credential arrived: cookie-borne sessions need CSRF protection. */
    via: 'header' | 'cookie';
  };
  /** Scopes narrowing the owner's permissions (API keys); null when not narrowed. */
  scopes: string[] | null;
  /** Project permissions carried by a grant's access token; null when not narrowed. */
  projectPermissions: Record<string, string[]> | null;
  /**
   * The user row loaded with the credential (possibly served from a credential cache, so as fresh
   * as the principal itself: any committed change to the user empties the caches). Lets
   * `GET /users/me` and whoami answer without loading it again. Read-only; never serialised.
   */
  user?: PrincipalUser;
  /** Set on a session that must enrol a second factor before anything but enrolment works. */
  mfaEnrolmentRequired?: boolean;
  /**
   * Set when the credential is an impersonation session: who is acting as this user and why.
   * Such a principal never changes passwords, factors or credentials (see
   * `assertMayChangeCredentials`, which the guard applies to the credential routes).
   */
  impersonation?: Impersonation | null;
}

/**
 * A cached principal with the credential of this request. Object.assign, not
 * `{ ...cached, credential }`: on Node 20 (V8 11.3) an object made by a spread and then given one
 * more property survives the next scavenge, though nothing refers to it, and is promoted to the old
 * generation. On the hot path that was every principal made since the last scavenge
 * (docs/performance.md, "No 'spread, then one more property' on the hot path").
 */
export function withCredential(
  cached: Omit<Principal, 'credential'>,
  credential: Principal['credential'],
): Principal {
  return Object.assign({}, cached, { credential });
}

export interface Impersonation {
  by: { id: string; email: string };
  reason: string;
}

/**
 * Refuses an impersonation session (403): for routes and services that change passwords, MFA
 * factors or credentials. The guard already applies it to routes declared `changesCredentials`
 * and to every write under `/users/:id/{password,api-keys,grants,authentications,mfa,sessions,
 * impersonate}`; call it in a service for a field-level case (an admin setting `password`).
 */
export function assertMayChangeCredentials(p: Principal | null | undefined): void {
  if (p?.impersonation)
    throw AppException.forbidden(
      'An impersonation session cannot change passwords, factors or credentials.',
    );
}

export interface AuthenticatedRequest extends FastifyRequest {
  principal?: Principal;
}
