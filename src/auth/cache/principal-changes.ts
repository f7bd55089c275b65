import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '#src/config/config.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import { PrincipalChangesRepository } from '#src/auth/cache/principal-changes.repository.js';
import type { Invalidatable } from '#src/kernel/credential-registry.js';
import type { Tx } from '#src/database/database.service.js';

/** Redis channel on which instances tell each other to drop cached principals. */
export const PRINCIPAL_CHANGES_CHANNEL = 'gatehouse:principal-changes';
/** How long a committed change waits for Redis to take its message before answering anyway. */
const PUBLISH_WAIT_MS = 500;

/**
 * The channel for a Redis URL: pub/sub ignores database indexes, so a URL naming a database other
 * than 0 gets a channel of its own (deployments, or test runs, sharing one Redis stay apart).
 */
export function principalChangesChannel(redisUrl: string): string {
  const db = Number(new URL(redisUrl).pathname.replace(/^\//, '') || '0');
  return db > 0 ? `${PRINCIPAL_CHANGES_CHANNEL}:${db}` : PRINCIPAL_CHANGES_CHANNEL;
}

interface ChangeMessage {
  /** The instance that sent it (it ignores its own messages). */
  from: string;
  /** A user whose credentials were revoked; absent: principal data changed, drop everything. */
  user?: string;
}

/**
 * The one place credential caches (sessions, API keys, access tokens) learn that what they hold may
 * be stale, so that a revocation holds at the next request on every instance:
 *
 * - On this instance, a committed write to the principal tables (see PRINCIPAL_TABLES) empties every
 *   cache and a revocation drops the user's entries.
 * - Every such change, and every session revocation, bumps the `principal_version` row in its own
 *   transaction. Before a cache is trusted (`whenCaughtUp`), an instance that has no working Redis
 *   subscription reads that row (one primary-key read, shared by the requests waiting for it) and
 *   empties its caches when it moved.
 * - With REDIS_URL, changes are also published on a channel; while this instance's subscription is
 *   up, the messages keep its caches fresh and it skips the read. A commit waits (up to 500 ms) for
 *   Redis to take its message before the request is answered. When the subscription drops, the
 *   instance reads the row again on every request until it has re-subscribed and caught up.
 */
@Injectable()
export class PrincipalChanges implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PrincipalChanges');
  private readonly instanceId = randomUUID();
  private channel = PRINCIPAL_CHANGES_CHANNEL;
  private pub: Redis | null = null;
  private sub: Redis | null = null;
  /** True while the Redis subscription is known to deliver every change since the last read. */
  private redisVouches = false;
  /** The last principal_version read; null before the first read. */
  private seenVersion: string | null = null;
  /** The read in flight, and the one queued behind it for requests that arrived after it began. */
  private reading: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** SQLite: the read that begins at the end of this turn of the event loop. */
  private scheduled: Promise<void> | null = null;
  /** The end of this turn of the event loop, while requests wait for it. */
  private turn: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly repo: PrincipalChangesRepository,
    private readonly registry: CredentialRegistry,
  ) {}

  /** The caches of every declared credential resolver. */
  private get caches(): Invalidatable[] {
    return this.registry.resolvers().map((r) => r.cache);
  }

  async onModuleInit(): Promise<void> {
    this.repo.onPrincipalDataChanged(
      () => this.changed(),
      // A read may have seen the bump that was undone: the next read must not trust equality.
      () => {
        if (this.seenVersion !== null) this.seenVersion = 'unknown';
      },
    );
    if (!this.config.redisUrl) return;
    this.channel = principalChangesChannel(this.config.redisUrl);
    const options = { maxRetriesPerRequest: 2, lazyConnect: true };
    this.pub = new Redis(this.config.redisUrl, options);
    this.sub = new Redis(this.config.redisUrl, { ...options, autoResubscribe: false });
    for (const r of [this.pub, this.sub]) {
      r.on('error', (err: Error) =>
        this.logger.warn({ msg: 'redis (cache invalidation)', error: err.message }),
      );
    }
    this.sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.received(text);
    });
    // Messages sent while the subscription is down are lost: stop relying on it at once.
    this.sub.on('close', () => {
      this.redisVouches = false;
    });
    this.sub.on('ready', () => void this.subscribe());
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
    } catch (err) {
      // Until Redis is back, every request reads principal_version instead.
      this.logger.warn({
        msg: 'redis unavailable for cache invalidation; reading principal_version per request',
        error: (err as Error).message,
      });
    }
  }

  onModuleDestroy(): void {
    this.redisVouches = false;
    this.pub?.disconnect();
    this.sub?.disconnect();
  }

  /**
   * Runs `fn` (a cache lookup) once the caches may be trusted, and never before the end of the
   * event loop's current turn. When another instance may have changed principal data without this
   * one hearing of it, principal_version is read first (a read begun after this call) and the
   * caches are emptied if it moved. The credential checks of the requests that arrived in one turn
   * then run together, one after another, after the first part of every one of them: measured
   * under load, that makes each request about 30% cheaper than running every request through in
   * one go (docs/performance.md), and without Redis one read serves them all.
   */
  whenCaughtUp<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.redisVouches || this.repo.databaseIsPrivate) return this.endOfTurn().then(fn);
    return this.readAfterNow().then(fn);
  }

  /** Resolves at the end of this turn of the event loop (one promise shared by all its callers). */
  private endOfTurn(): Promise<void> {
    this.turn ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.turn = null;
    });
    return this.turn;
  }

  /** Principal data changed: every cache here and on the other instances is emptied. */
  changed(): Promise<void> {
    for (const c of this.caches) c.clear();
    return this.publish({ from: this.instanceId });
  }

  /**
   * The user's credentials are being revoked in `tx`: their entries go everywhere now, and
   * principal_version moves when `tx` commits.
   */
  async userRevoked(tx: Tx, userId: string): Promise<void> {
    const now = Date.now();
    for (const c of this.caches) c.invalidateUser(userId, now);
    await this.repo.bumpVersionAtCommit(tx);
    // Waited for: the other instances must hold the user out of their caches before we answer.
    await this.publish({ from: this.instanceId, user: userId });
  }

  /** Resolves once a read of principal_version that began after this call has been applied. */
  private readAfterNow(): Promise<void> {
    if (this.repo.readsSynchronously) {
      // SQLite answers at once, so no read is ever in flight to share: the read waits for the end
      // of this turn of the event loop instead, and every request that asked before it begins
      // shares it (under load, a batch of requests per read instead of one each).
      this.scheduled ??= this.endOfTurn().then(() => {
        this.scheduled = null;
        return this.readVersion();
      });
      return this.scheduled;
    }
    if (!this.reading) {
      this.reading = this.readVersion().finally(() => {
        this.reading = null;
      });
      return this.reading;
    }
    // A read is in flight but began before this request: join the next one.
    this.queued ??= this.reading.then(() => {
      this.queued = null;
      return this.readAfterNow();
    });
    return this.queued;
  }

  private async readVersion(): Promise<void> {
    const version = await this.repo.readVersion();
    if (version !== this.seenVersion) {
      if (this.seenVersion !== null) for (const c of this.caches) c.clear();
      this.seenVersion = version;
    }
  }

  /** (Re)subscribes, catches up on what was missed meanwhile, then relies on the messages. */
  private async subscribe(): Promise<void> {
    if (!this.sub) return;
    try {
      await this.sub.subscribe(this.channel);
      // Subscribed first, then read: a change committed after the read arrives as a message.
      await this.readAfterNow();
      for (const c of this.caches) c.clear();
      if (this.sub.status === 'ready') this.redisVouches = true;
    } catch (err) {
      this.logger.warn({
        msg: 'redis subscription failed; reading principal_version per request',
        error: (err as Error).message,
      });
    }
  }

  private async publish(msg: ChangeMessage): Promise<void> {
    if (!this.pub || this.pub.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.pub.publish(this.channel, JSON.stringify(msg)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, PUBLISH_WAIT_MS);
        }),
      ]);
    } catch (err) {
      this.logger.warn({ msg: 'redis publish failed', error: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }

  private received(text: string): void {
    let msg: ChangeMessage;
    try {
      msg = JSON.parse(text) as ChangeMessage;
    } catch {
      return;
    }
    if (msg.from === this.instanceId) return;
    if (typeof msg.user === 'string') {
      const now = Date.now();
      for (const c of this.caches) c.invalidateUser(msg.user, now);
    } else {
      for (const c of this.caches) c.clear();
    }
  }
}
