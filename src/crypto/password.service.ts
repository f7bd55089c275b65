import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { BcryptJobDropped, BcryptPool, type BcryptPoolStats } from '#src/crypto/bcrypt-pool.js';
import { clientGoneSignal } from '#src/common/request-context.js';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  maxBytes: number;
  requiredClasses: string[];
  breachedPasswordCheck: boolean;
}

/**
 * bcrypt hashing and the password policy. Hashes run on BCRYPT_CONCURRENCY worker threads (default:
 * the CPU count) at a lower scheduling priority (BCRYPT_NICE), never on the event loop nor on
 * libuv's threadpool: a login storm uses the spare CPU and cannot stall other requests. Unknown
 * users are compared against a dummy hash of the same cost so sign-in timing does not reveal who
 * exists.
 */
@Injectable()
export class PasswordService implements OnModuleInit, OnModuleDestroy {
  private dummyHash = '';
  private breached: Set<string> | null = null;
  private readonly pool: BcryptPool;

  constructor(private readonly config: AppConfig) {
    this.pool = new BcryptPool(config.bcryptConcurrency, config.bcryptNice);
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.pool.hash(`dummy-${Date.now()}`, this.config.bcryptCost);
    const file = this.config.passwordPolicy.breachedListFile;
    if (file) {
      const text = await readFile(file, 'utf8');
      this.breached = new Set(
        text
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean),
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.close();
  }

  policy(): PasswordPolicy {
    const p = this.config.passwordPolicy;
    return {
      minLength: p.minLength,
      maxLength: p.maxBytes,
      maxBytes: p.maxBytes,
      requiredClasses: [],
      breachedPasswordCheck: p.breachedCheck,
    };
  }

  /** 400 for what bcrypt cannot take (over 72 bytes), 422 for what the policy refuses. */
  check(password: string, field = 'password'): void {
    const p = this.config.passwordPolicy;
    if (Buffer.byteLength(password, 'utf8') > p.maxBytes) {
      throw AppException.invalid(
        field,
        `must be at most ${p.maxBytes} bytes in UTF-8 (bcrypt's limit)`,
      );
    }
    if ([...password].length < p.minLength) {
      throw AppException.rule(
        'password_too_short',
        `${field} must be at least ${p.minLength} characters.`,
        field,
      );
    }
    if (this.breached?.has(password)) {
      throw AppException.rule(
        'password_breached',
        `${field} appears in a list of breached passwords; choose another.`,
        field,
      );
    }
  }

  async hash(password: string): Promise<string> {
    return this.pool.hash(password, this.config.bcryptCost);
  }

  /**
   * Always one bcrypt comparison, whether or not there is a hash to compare with. A comparison still
   * waiting for a thread when its request's client goes away is dropped (a storm of sign-ins whose
   * clients time out would otherwise keep the threads busy for nobody): the request ends with
   * `client_gone` (499), and nothing about the attempt is recorded.
   */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > this.config.passwordPolicy.maxBytes;
    let ok: boolean;
    try {
      ok = await this.pool.compare(password, hash ?? this.dummyHash, clientGoneSignal());
    } catch (err) {
      if (err instanceof BcryptJobDropped)
        throw new AppException(
          'client_gone',
          'The client went away before its password was checked.',
        );
      throw err;
    }
    return ok && !!hash && !tooLong;
  }

  /** The bcrypt threads' work (running, queued, dropped), for the metrics. */
  poolStats(): BcryptPoolStats {
    return this.pool.stats();
  }
}
