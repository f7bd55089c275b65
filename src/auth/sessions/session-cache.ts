import type { Principal } from '#src/kernel/principal.js';
import { CredentialCache } from '#src/auth/cache/credential-cache.js';

/** What a cached session lookup keeps: enough to re-check expiry and idle time on every hit. */
export interface CachedSession {
  sessionId: string;
  userId: string;
  expiresAt: number;
  lastSeenAt: number;
  /** The principal without the per-request `via`. */
  principal: Omit<Principal, 'credential'>;
  cachedAt: number;
}

/** Session lookups by token hash (see CredentialCache for the correctness rules). */
export class SessionCache extends CredentialCache<CachedSession> {}
