import { Injectable, Logger } from '@nestjs/common';
import { afterAnswer } from '#src/common/request-context.js';
import { AuditService } from '#src/audit/audit.service.js';
import { AppConfig } from '#src/config/config.js';
import { sha256Hex } from '#src/crypto/tokens.js';
import { Database } from '#src/database/database.service.js';
import { MailService } from '#src/mail/mail.service.js';
import { UsersService } from '#src/users/users.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import type { UserTokenKind } from '#src/auth/entities/user-token.entity.js';
import { UserTokensRepository } from '#src/auth/user-tokens.repository.js';

/** What a mailed link's token is now: a page says which, and offers the next step. */
export type LinkTokenState =
  | { state: 'usable'; userId: string; email: string; hasPassword: boolean }
  | { state: 'used' | 'expired' | 'unknown' };

/**
 * Reads the state of a mailed link's token without spending it (pages show a form on GET and act
 * only on POST, so mail scanners that prefetch links change nothing), and mails a new activation
 * link to a pending account.
 */
@Injectable()
export class LinkTokensService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly tokens: UserTokensRepository,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
  ) {}

  async inspect(token: unknown, kinds: UserTokenKind[]): Promise<LinkTokenState> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 200)
      return { state: 'unknown' };
    const row = await this.tokens.findAny(sha256Hex(token), kinds);
    if (!row) return { state: 'unknown' };
    if (row.usedAt !== null) return { state: 'used' };
    if (row.expiresAt.getTime() <= Date.now()) return { state: 'expired' };
    const user = await this.users.findByIdWithPasswordHash(row.userId);
    if (!user || user.status === 'disabled') return { state: 'unknown' };
    return {
      state: 'usable',
      userId: user.id,
      // Link tokens are issued to people only (a service account has no address).
      email: user.email ?? '',
      hasPassword: typeof user.passwordHash === 'string' && user.passwordHash.length > 0,
    };
  }

  /**
   * Mails a new activation link when the address belongs to a pending account; the caller always
   * gets the same answer, at once (the lookup and mail happen after it), so nothing is revealed.
   */
  requestActivationLink(email: string): void {
    afterAnswer(
      () => this.sendActivation(email),
      (err) => this.logger.error({ msg: 'activation link failed', error: (err as Error).message }),
    );
  }

  private async sendActivation(email: string): Promise<void> {
    const user = await this.users.findByEmail(email);
    if (!user || user.status !== 'pending') return;
    const token = await this.db.transaction(async (tx) => {
      const t = await this.auth.issueToken(
        tx,
        user.id,
        'activation',
        this.config.activationHours * 60,
      );
      await this.audit.record(tx, {
        actorId: null,
        action: 'user.activation_request',
        targetType: 'user',
        targetId: user.id,
      });
      return t;
    });
    await this.mail.send({
      to: user.email,
      subject: 'Activate your Gatehouse account',
      text: `Here is a new link to activate your Gatehouse account: ${this.mail.link(`/activate?token=${encodeURIComponent(token)}`)}\n\nIt expires in ${this.config.activationHours} hours and works once. If you did not ask, ignore this mail.`,
    });
  }
}
