import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { Database } from '#src/database/database.service.js';
import { AuditService } from '#src/audit/audit.service.js';
import { PasswordService } from '#src/crypto/password.service.js';
import { UsersService } from '#src/users/users.service.js';
import type { User } from '#src/users/user.entity.js';

export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/**
 * The first admin without an anonymous signup: from BOOTSTRAP_ADMIN_* at start-up when no user
 * exists, or from `gatehouse users create --admin`. Email marked verified, audited as
 * `user.create`, no mail. Safe when several instances start at once: the "no user yet" check and
 * the insert run under the audit chain's lock, so exactly one instance creates it.
 */
@Injectable()
export class BootstrapAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');

  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.bootstrapAdmin;
    if (!admin) return;
    try {
      this.passwords.check(admin.password);
    } catch (err) {
      if (err instanceof AppException)
        throw new BootstrapError(
          `${admin.passwordSource} is refused by the password policy: ${err.detail}`,
        );
      throw err;
    }
    const created = await this.createFirstAdmin(admin.email, admin.password);
    if (created)
      this.logger.log({
        msg: 'first admin created from BOOTSTRAP_ADMIN_EMAIL',
        userId: created.id,
      });
  }

  /** Creates the admin only when the server has no user yet; null when it has one. */
  createFirstAdmin(email: string, password: string): Promise<User | null> {
    return this.db.transaction(async (tx) => {
      await this.audit.lockChain(tx);
      if ((await this.users.countUsers(tx)) > 0) return null;
      return this.users.createUser(
        tx,
        { email, password, role: 'admin', status: 'active', emailVerified: true },
        null,
      );
    });
  }

  /** An admin (or user) made by the operator at the command line, whatever users exist. */
  createUser(email: string, password: string, admin: boolean, fullName?: string): Promise<User> {
    return this.db.transaction(async (tx) => {
      await this.audit.lockChain(tx);
      return this.users.createUser(
        tx,
        {
          email,
          password,
          fullName: fullName ?? null,
          role: admin ? 'admin' : 'user',
          status: 'active',
          emailVerified: true,
        },
        null,
      );
    });
  }
}
