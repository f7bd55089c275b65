import { Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { readFile } from 'node:fs/promises';
import { AppConfig } from '../../config/config.js';
import { AppException } from '../../common/errors/app.exception.js';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  maxBytes: number;
  requiredClasses: string[];
  breachedPasswordCheck: boolean;
}

/** At most `size` tasks at once; the others wait in arrival order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((ok) => this.waiting.push(ok));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter (active stays the same).
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * bcrypt hashing (async: never blocks the event loop) and the password policy. At most
 * BCRYPT_CONCURRENCY hashes run at once (default: the CPU count), so a login storm cannot take
 * every core (and libuv's whole threadpool, which DNS and file I/O share) from other requests. Unknown users are
 * compared against a dummy hash of the same cost so sign-in timing does not reveal who exists.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash = '';
  private breached: Set<string> | null = null;
  private readonly slots: Semaphore;

  constructor(private readonly config: AppConfig) {
    this.slots = new Semaphore(config.bcryptConcurrency);
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await bcrypt.hash(`dummy-${Date.now()}`, this.config.bcryptCost);
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
    return this.slots.run(() => bcrypt.hash(password, this.config.bcryptCost));
  }

  /** Always one bcrypt comparison, whether or not there is a hash to compare with. */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > this.config.passwordPolicy.maxBytes;
    const ok = await this.slots.run(() => bcrypt.compare(password, hash ?? this.dummyHash));
    return ok && !!hash && !tooLong;
  }
}
