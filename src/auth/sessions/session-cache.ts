import type { Principal } from '../principal.js';

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

/**
 * A small in-process cache of session lookups by token hash, so an authenticated request costs no
 * database query while the entry is fresh.
 *
 * Correctness: entries live at most `ttlMs` (so a role change made elsewhere shows within that
 * time). A revocation on this instance drops the user's entries at once and, for `bypassMs` after it
 * (longer than the revoking transaction takes to commit), lookups of that user skip the cache, so a
 * lookup that read the row before the commit cannot put a revoked session back. Any committed change
 * to users, roles or role assignments on this instance empties the cache (`clear`), and a lookup
 * that began before it is not cached (the generation check). On other instances a revocation or a
 * role change is seen when their entry expires (at most `ttlMs`).
 */
export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly bypassUntil = new Map<string, number>();
  private gen = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly bypassMs: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(tokenHash: string, now: number): CachedSession | null {
    const e = this.entries.get(tokenHash);
    if (!e) return null;
    if (now - e.cachedAt >= this.ttlMs || this.bypassed(e.userId, now)) {
      this.entries.delete(tokenHash);
      return null;
    }
    return e;
  }

  /** Taken before a database lookup and passed to `set`. */
  get generation(): number {
    return this.gen;
  }

  /**
   * Caches a lookup that started at `startedAt` in `generation`, unless the user was revoked since
   * or principal data changed since (it may have read the old rows).
   */
  set(tokenHash: string, entry: CachedSession, startedAt: number, generation: number): void {
    if (!this.enabled || generation !== this.gen || this.bypassed(entry.userId, startedAt)) return;
    if (this.entries.size >= this.maxEntries) {
      // Oldest first (Map keeps insertion order).
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(tokenHash, entry);
  }

  /** Drops every entry of the user and keeps the cache out of their lookups for a moment. */
  invalidateUser(userId: string, now = Date.now()): void {
    this.bypassUntil.set(userId, now + this.bypassMs);
    for (const [k, e] of this.entries) if (e.userId === userId) this.entries.delete(k);
    for (const [u, until] of this.bypassUntil) if (until <= now) this.bypassUntil.delete(u);
  }

  /** Principal data (users, roles) changed: forget everything, and lookups in flight too. */
  clear(): void {
    this.gen++;
    this.entries.clear();
  }

  private bypassed(userId: string, at: number): boolean {
    const until = this.bypassUntil.get(userId);
    return until !== undefined && at < until;
  }
}
