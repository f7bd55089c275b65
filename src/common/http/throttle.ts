import {
  Injectable,
  Logger,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';
import { Redis } from 'ioredis';
import { AppConfig } from '#src/config/config.js';

export const SIGNIN_LIMIT_METADATA = 'gatehouse:signin-limit';

/** Per-client-IP limit of RATE_LIMIT_SIGNIN requests a minute (sign-in, registration, reset, token routes). */
export function SignInRateLimit(): MethodDecorator {
  return SetMetadata(SIGNIN_LIMIT_METADATA, true);
}

/** Counters shared by every instance through Redis (fixed window per key). */
export class RedisThrottlerStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('Throttle');
  constructor(private readonly redis: Redis) {
    // Without a listener ioredis prints every connection error to stderr, outside the JSON log.
    redis.on('error', (err: Error) =>
      this.logger.warn({ msg: 'redis (rate limits)', error: err.message }),
    );
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    const hitKey = `gh:throttle:${name}:${key}`;
    const blockKey = `${hitKey}:blocked`;
    const res = await this.redis
      .multi()
      .incr(hitKey)
      .pexpire(hitKey, ttl, 'NX')
      .pttl(hitKey)
      .pttl(blockKey)
      .exec();
    const totalHits = Number(res?.[0]?.[1] ?? 0);
    const timeToExpire = Math.ceil(Math.max(0, Number(res?.[2]?.[1] ?? ttl)) / 1000);
    let blockTtl = Number(res?.[3]?.[1] ?? -2);
    if (blockTtl < 0 && totalHits > limit) {
      await this.redis.set(blockKey, '1', 'PX', blockDuration);
      blockTtl = blockDuration;
    }
    const isBlocked = blockTtl > 0;
    return {
      totalHits,
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil(blockTtl / 1000) : 0,
    };
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
    this.logger.debug('redis throttler storage closed');
  }
}

export function throttlerModule() {
  return ThrottlerModule.forRootAsync({
    inject: [AppConfig],
    useFactory: (config: AppConfig) => ({
      throttlers: [{ name: 'default', ttl: 60_000, limit: Math.max(1, config.rateLimitSignin) }],
      skipIf: () => config.rateLimitSignin === 0,
      ...(config.redisUrl
        ? {
            storage: new RedisThrottlerStorage(
              new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }),
            ),
          }
        : {}),
    }),
  });
}

/** @nestjs/throttler's guard as configured by `throttlerModule` (per client IP); see below. */
@Injectable()
export class SignInThrottler extends ThrottlerGuard {}

/**
 * Applies the per-IP limit only to routes marked @SignInRateLimit(), and not at all when
 * RATE_LIMIT_SIGNIN=0. Every other route passes at once, without entering the throttler's
 * asynchronous check (this guard runs on every request).
 */
@Injectable()
export class SignInThrottlerGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly throttler: SignInThrottler,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (!this.reflector.get<boolean | undefined>(SIGNIN_LIMIT_METADATA, context.getHandler()))
      return true;
    return this.throttler.canActivate(context);
  }
}
