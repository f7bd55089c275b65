import type { Invalidatable } from '#src/kernel/credential-registry.js';

/** What every cached credential lookup keeps, whatever the credential kind. */
export interface CacheEntry {
  userId: string;
  cachedAt: number;
}

/** What a cache must do when principal data changes (see PrincipalChanges). */
/**
 * A small in-process cache of credential lookups (sessions, API keys, access tokens) by a hash of
 * the token, so an authenticated request costs no database query while the entry is fresh.
 *
 * Correctness: entries live at most `ttlMs` (so a change made elsewhere and not broadcast shows
 * within that time). A revocation drops the user's entries at once and, for `bypassMs` after it
 * (longer than the revoking transaction takes to commit), lookups of that user skip the cache, so a
 * lookup that read the row before the commit cannot put a revoked credential back. Any committed
 * change to principal data empties the cache (`clear`), and a lookup that began before it is not
 * cached (the generation check). With Redis, both are broadcast to the other instances.
 */
export class CredentialCache<E extends CacheEntry> implements Invalidatable {
  private readonly entries = new Map<string, E>();
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

  get size(): number {
    return this.entries.size;
  }

  /**
   * Whether an entry is kept under `key`, fresh or not. Entries are only made for tokens that
   * passed their resolver's checks, so a token held here needs no second look at its checksum.
   */
  holds(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string, now: number): E | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (now - e.cachedAt >= this.ttlMs || this.bypassed(e.userId, now)) {
      this.entries.delete(key);
      return null;
    }
    return e;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Taken before a database lookup and passed to `set`. */
  get generation(): number {
    return this.gen;
  }

  /**
   * Caches a lookup that started at `startedAt` in `generation`, unless the user was revoked since
   * or principal data changed since (it may have read the old rows).
   */
  set(key: string, entry: E, startedAt: number, generation: number): void {
    if (!this.enabled || generation !== this.gen || this.bypassed(entry.userId, startedAt)) return;
    if (this.entries.size >= this.maxEntries) {
      // Oldest first (Map keeps insertion order).
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }

  /** Drops every entry of the user and keeps the cache out of their lookups for a moment. */
  invalidateUser(userId: string, now = Date.now()): void {
    this.gen++;
    this.bypassUntil.set(userId, now + this.bypassMs);
    for (const [k, e] of this.entries) if (e.userId === userId) this.entries.delete(k);
    for (const [u, until] of this.bypassUntil) if (until <= now) this.bypassUntil.delete(u);
  }

  /** Principal data changed: forget everything, and lookups in flight too. */
  clear(): void {
    this.gen++;
    this.entries.clear();
  }

  private bypassed(userId: string, at: number): boolean {
    const until = this.bypassUntil.get(userId);
    return until !== undefined && at < until;
  }
}
