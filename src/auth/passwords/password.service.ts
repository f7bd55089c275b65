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

/**
 * bcrypt hashing (async: never blocks the event loop) and the password policy. Unknown users are
 * compared against a dummy hash of the same cost so sign-in timing does not reveal who exists.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash = '';
  private breached: Set<string> | null = null;

  constructor(private readonly config: AppConfig) {}

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
    return bcrypt.hash(password, this.config.bcryptCost);
  }

  /** Always one bcrypt comparison, whether or not there is a hash to compare with. */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > this.config.passwordPolicy.maxBytes;
    const ok = await bcrypt.compare(password, hash ?? this.dummyHash);
    return ok && !!hash && !tooLong;
  }
}
