import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '#src/config/config.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import { PrincipalChangesRepository } from '#src/auth/cache/principal-changes.repository.js';
import type { Invalidatable } from '#src/kernel/credential-registry.js';

/** Redis channel on which instances tell each other to drop cached principals. */
export const PRINCIPAL_CHANGES_CHANNEL = 'gatehouse:principal-changes';

interface ChangeMessage {
  /** The instance that sent it (it ignores its own messages). */
  from: string;
  /** A user whose credentials were revoked; absent: principal data changed, drop everything. */
  user?: string;
}

/**
 * The one place credential caches (sessions, API keys, access tokens) learn that what they hold may
 * be stale: a committed write to the principal tables (see PRINCIPAL_TABLES) empties every cache, a
 * revocation drops the user's entries. When REDIS_URL is set both are published on a Redis channel
 * so other instances drop theirs too (within milliseconds instead of the caches' TTL).
 */
@Injectable()
export class PrincipalChanges implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PrincipalChanges');
  private readonly instanceId = randomUUID();
  private pub: Redis | null = null;
  private sub: Redis | null = null;

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
    this.repo.onPrincipalDataChanged(() => this.changed());
    if (!this.config.redisUrl) return;
    const options = { maxRetriesPerRequest: 2, lazyConnect: true };
    this.pub = new Redis(this.config.redisUrl, options);
    this.sub = new Redis(this.config.redisUrl, options);
    for (const r of [this.pub, this.sub]) {
      r.on('error', (err: Error) =>
        this.logger.warn({ msg: 'redis (cache invalidation)', error: err.message }),
      );
    }
    this.sub.on('message', (channel: string, text: string) => {
      if (channel === PRINCIPAL_CHANGES_CHANNEL) this.received(text);
    });
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
      await this.sub.subscribe(PRINCIPAL_CHANGES_CHANNEL);
    } catch (err) {
      // Caches still expire after their TTL; the next messages go out once Redis is back.
      this.logger.warn({
        msg: 'redis unavailable for cache invalidation',
        error: (err as Error).message,
      });
    }
  }

  onModuleDestroy(): void {
    this.pub?.disconnect();
    this.sub?.disconnect();
  }

  /** Principal data changed: every cache here and on the other instances is emptied. */
  changed(): void {
    for (const c of this.caches) c.clear();
    this.publish({ from: this.instanceId });
  }

  /** The user's credentials were revoked: their entries go everywhere. */
  userRevoked(userId: string): void {
    const now = Date.now();
    for (const c of this.caches) c.invalidateUser(userId, now);
    this.publish({ from: this.instanceId, user: userId });
  }

  private publish(msg: ChangeMessage): void {
    if (!this.pub || this.pub.status !== 'ready') return;
    this.pub.publish(PRINCIPAL_CHANGES_CHANNEL, JSON.stringify(msg)).catch((err: unknown) => {
      this.logger.warn({ msg: 'redis publish failed', error: (err as Error).message });
    });
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
