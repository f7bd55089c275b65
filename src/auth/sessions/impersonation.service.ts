import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { Database } from '#src/database/database.service.js';
import { AuditService } from '#src/audit/audit.service.js';
import { assertMayChangeCredentials, type Principal } from '#src/kernel/principal.js';
import { DeclaresPermissions } from '#src/users/permission-catalogue.js';
import type { UserResponse } from '#src/users/user.mapper.js';
import { UsersService } from '#src/users/users.service.js';
import { OidcProvidersService } from '#src/auth/oidc/oidc-providers.service.js';
import { UserIdentitiesRepository } from '#src/auth/oidc/user-identities.repository.js';
import { SessionsService, type SessionContext } from '#src/auth/sessions/sessions.service.js';

export const IMPERSONATE_PERMISSION = 'users.impersonate';
export const IMPERSONATION_DEFAULT_MINUTES = 15;
export const IMPERSONATION_MAX_MINUTES = 60;

export interface ImpersonationResult {
  token: string;
  expiresAt: string;
  user: UserResponse;
  impersonatedBy: { id: string; email: string };
  reason: string;
}

/**
 * Impersonation: a short session as another user, started by a holder of `users.impersonate`
 * with a reason. The session carries the impersonator and the reason; every audit entry made with
 * it names both (the actor stays the impersonated user), and it never changes passwords, factors
 * or credentials (the principal's `impersonation`, enforced by the guard).
 */
@Injectable()
@DeclaresPermissions([
  {
    name: IMPERSONATE_PERMISSION,
    description:
      'Start a short session as another user, with a reason (never as an admin unless an admin)',
    scope: 'server',
  },
])
export class ImpersonationService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly providers: OidcProvidersService,
    private readonly identities: UserIdentitiesRepository,
  ) {}

  /** The user linked to this provider's subject (the seeds' token for an external id). */
  async userIdForExternal(provider: string, subject: string): Promise<string> {
    const config = this.providers.find(provider);
    if (!config) throw AppException.invalid('provider', 'is not a configured identity provider');
    const identity = await this.identities.findByIssuerSubject(config.issuer, subject);
    if (!identity) throw AppException.notFound('User');
    return identity.userId;
  }

  async impersonate(
    p: Principal,
    userId: string,
    reason: string,
    minutes: number | undefined,
    ctx: SessionContext,
    via: string,
  ): Promise<ImpersonationResult> {
    // An impersonation session never starts another one (the guard refuses it too).
    assertMayChangeCredentials(p);
    const trimmed = reason.trim();
    if (!trimmed) throw AppException.invalid('reason', 'must not be empty');
    const span = minutes ?? IMPERSONATION_DEFAULT_MINUTES;
    const by = { id: p.userId, email: p.email ?? '' };
    return this.db.transaction(async (tx) => {
      const target = await this.users.requireUser(userId, tx);
      if (target.id === p.userId)
        throw AppException.rule('impersonate_self', 'You cannot impersonate yourself.', 'id');
      if (target.role === 'admin' && p.role !== 'admin')
        throw AppException.forbidden('Only an admin may impersonate an admin.');
      if (target.status !== 'active')
        throw AppException.rule('user_not_active', 'Only an active user can be impersonated.');
      const { session, token } = await this.sessions.create(
        tx,
        target,
        { ...ctx, method: 'impersonation' },
        { by, reason: trimmed, minutes: span },
      );
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'user.impersonate',
        targetType: 'user',
        targetId: target.id,
        changes: {
          sessionId: session.id,
          reason: trimmed,
          minutes: span,
          expiresAt: session.expiresAt.toISOString(),
          via,
        },
      });
      return {
        token,
        expiresAt: session.expiresAt.toISOString(),
        user: await this.users.toResponse(target),
        impersonatedBy: by,
        reason: trimmed,
      };
    });
  }
}
