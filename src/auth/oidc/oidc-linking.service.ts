import { Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '#src/audit/audit.service.js';
import { generateToken, sha256Hex } from '#src/crypto/tokens.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { Database, isUniqueViolation, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { MailService } from '#src/mail/mail.service.js';
import type { User } from '#src/users/user.entity.js';
import { UsersService } from '#src/users/users.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { PasswordService } from '#src/crypto/password.service.js';
import { SessionsService, type SessionContext } from '#src/auth/sessions/sessions.service.js';
import { UserTokensRepository } from '#src/auth/user-tokens.repository.js';
import { OidcPendingLink } from '#src/auth/oidc/oidc-pending-link.entity.js';
import {
  OidcProvidersService,
  type VerifiedIdentity,
} from '#src/auth/oidc/oidc-providers.service.js';
import { OidcSignInRepository } from '#src/auth/oidc/oidc-sign-in.repository.js';
import { SignInError } from '#src/auth/oidc/sign-in-error.js';
import { UserIdentitiesRepository } from '#src/auth/oidc/user-identities.repository.js';
import { UserEventBus } from '#src/kernel/events.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';

export const PENDING_LINK_TTL_MS = 10 * 60_000;
const PENDING_LINK_MAX_FAILURES = 5;
const MAX_TRIES = 4;
const LINK_TOKEN_PREFIX = 'gthl_';

export type SignInOutcome =
  | { kind: 'signed_in'; userId: string; token: string; expiresAt: string; returnTo: string }
  | { kind: 'confirm_link'; linkToken: string; returnTo: string }
  /** A factor is in force: no session until the second step (/signin/mfa) is done. */
  | { kind: 'mfa'; userId: string; mfaToken: string; returnTo: string };

export interface PendingLinkView {
  providerName: string;
  externalEmail: string | null;
  accountEmail: string;
}

interface Decision {
  outcome: SignInOutcome;
  /** Mailed after the commit: "a new sign-in method was linked". */
  notify: { to: string | null; providerName: string } | null;
}

function usableEmail(email: string | null): string | null {
  if (!email) return null;
  const e = email.trim();
  return e.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(e) ? e : null;
}

/** Deadlocks and lock timeouts on MySQL, busy on SQLite: the whole decision is retried. */
function isTransient(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e.driverError?.code ?? e.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'SQLITE_BUSY';
}

/**
 * What happens on the first (and every later) external sign-in, exactly as SECURITY.md "Linking an
 * account on first external sign-in": identities are found by (issuer, subject) only; email is
 * consulted only the first time, and only a verified one.
 */
@Injectable()
export class OidcLinkingService {
  private readonly logger = new Logger('OIDC');

  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly identities: UserIdentitiesRepository,
    private readonly sessions: SessionsService,
    private readonly tokens: UserTokensRepository,
    private readonly repo: OidcSignInRepository,
    private readonly providers: OidcProvidersService,
    private readonly passwords: PasswordService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly events: UserEventBus,
    private readonly mfa: MfaService,
  ) {}

  /**
   * Signs in with a verified external identity, linking or creating the account when the rules
   * allow, or asks for the local password. Two first sign-ins of one identity at once: the loser
   * of the unique constraints retries and finds the winner's link.
   */
  async signIn(
    providerId: string,
    identity: VerifiedIdentity,
    ctx: SessionContext,
    returnTo: string,
  ): Promise<SignInOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const decision = await this.db.transaction((tx) =>
          this.decide(tx, providerId, identity, ctx, returnTo),
        );
        if (decision.notify) this.notifyLinked(decision.notify.to, decision.notify.providerName);
        return decision.outcome;
      } catch (err) {
        const raced =
          isUniqueViolation(err) ||
          isTransient(err) ||
          (err instanceof AppException && err.code === 'conflict');
        if (!raced || attempt >= MAX_TRIES) throw err;
        this.logger.debug({ msg: 'first sign-in raced another; retrying', attempt });
      }
    }
  }

  private async decide(
    tx: Tx,
    providerId: string,
    id: VerifiedIdentity,
    ctx: SessionContext,
    returnTo: string,
  ): Promise<Decision> {
    const provider = this.providers.require(providerId);
    const now = new Date();
    const sessionCtx = { ...ctx, method: `oidc:${providerId}` };

    // 1. Known identity: that user, whatever the email says today.
    const existing = await this.identities.findByIssuerSubject(id.issuer, id.subject, tx);
    if (existing) {
      const user = await this.users.findById(existing.userId, tx);
      if (!user || user.status !== 'active') throw new SignInError('account_not_active');
      await this.identities.touch(existing.id, now, tx);
      return { outcome: await this.session(tx, user, sessionCtx, returnTo), notify: null };
    }

    const email = usableEmail(id.email);
    if (!email) throw new SignInError('email_missing');
    const local = await this.users.findByEmail(email, tx);

    // 2. Nobody has this email: a new account, verified only on the provider's JSON `true`.
    if (!local) {
      const user = await this.users.createUser(
        tx,
        {
          email,
          password: null,
          fullName: id.name ? id.name.slice(0, 200) : null,
          status: 'active',
          emailVerified: id.emailVerified,
        },
        null,
      );
      await this.link(tx, user, providerId, id, now, 'new_user');
      return { outcome: await this.session(tx, user, sessionCtx, returnTo), notify: null };
    }

    // A disabled account is an admin's decision; a pending one may still be claimed below.
    if (local.status === 'disabled') throw new SignInError('account_not_active');
    // 3. Never link to an existing account on an email the provider does not vouch for.
    if (!id.emailVerified) throw new SignInError('email_not_verified');
    // 4. One subject per issuer per user: unlinking is explicit.
    if (await this.identities.findByUserAndIssuer(local.id, id.issuer, tx))
      throw new SignInError('other_identity_at_issuer');

    // 5. The local account never proved its email: a provider trusted for linking claims it (the
    // pre-hijack defence). A provider not trusted for linking never claims or changes an existing
    // account (an admin may have created it without marking the email verified): it falls through
    // to the password step below, or is refused when the account has no password or is not active.
    if (!local.emailVerified && provider.trustEmailForLinking) {
      await this.claim(tx, local, providerId);
      await this.link(tx, local, providerId, id, now, 'claimed_unverified_account');
      const claimed = await this.users.requireUser(local.id, tx);
      return {
        outcome: await this.session(tx, claimed, sessionCtx, returnTo),
        notify: { to: claimed.email, providerName: provider.name },
      };
    }

    // A pending account not claimed above waits for its activation.
    if (local.status !== 'active') throw new SignInError('account_not_active');

    // 6. Both sides verified and the provider is trusted for linking: link automatically.
    if (provider.trustEmailForLinking && local.emailVerified) {
      await this.link(tx, local, providerId, id, now, 'verified_email_trusted_provider');
      return {
        outcome: await this.session(tx, local, sessionCtx, returnTo),
        notify: { to: local.email, providerName: provider.name },
      };
    }

    // 7. Otherwise the person proves the local password first.
    const withHash = await this.users.findByIdWithPasswordHash(local.id, tx);
    if (!withHash?.passwordHash) throw new SignInError('link_no_password');
    await this.repo.purgeExpired(tx, now);
    const linkToken = generateToken(LINK_TOKEN_PREFIX);
    const pending = new OidcPendingLink();
    pending.id = newId();
    pending.tokenHash = sha256Hex(linkToken);
    pending.userId = local.id;
    pending.providerId = providerId;
    pending.issuer = id.issuer;
    pending.subject = id.subject;
    pending.email = email;
    pending.returnTo = returnTo;
    pending.failedAttempts = 0;
    pending.createdAt = now;
    pending.expiresAt = new Date(now.getTime() + PENDING_LINK_TTL_MS);
    await this.repo.insertPendingLink(tx, pending);
    return { outcome: { kind: 'confirm_link', linkToken, returnTo }, notify: null };
  }

  /** Takes over an account whose email was never verified: every credential of it is revoked. */
  private async claim(tx: Tx, user: User, providerId: string): Promise<void> {
    // A pending squatter account (registered, never activated) is activated for its real owner.
    await this.users.applyChanges(tx, user, {
      status: 'active',
      passwordHash: null,
      emailVerified: true,
      failedLogins: 0,
      lockCount: 0,
      lockedUntil: null,
    });
    await this.tokens.revokeAll(tx, user.id, 'password_reset');
    await this.tokens.revokeAll(tx, user.id, 'activation');
    // Sessions, keys and grants: their modules react to the event in this transaction.
    await this.events.emit(tx, 'user.credentials-changed', {
      userId: user.id,
      keepSessionId: null,
    });
    await this.audit.record(tx, {
      actorId: user.id,
      action: 'user.claim',
      targetType: 'user',
      targetId: user.id,
      changes: {
        reason: 'verified external identity claimed an account whose email was never verified',
        providerId,
        passwordRemoved: true,
        credentialsRevoked: true,
        emailVerified: { from: false, to: true },
        status: { from: user.status, to: 'active' },
      },
    });
  }

  private async link(
    tx: Tx,
    user: User,
    providerId: string,
    id: VerifiedIdentity,
    now: Date,
    via: string,
  ): Promise<void> {
    const row = new UserIdentity();
    row.id = newId();
    row.userId = user.id;
    row.providerId = providerId;
    row.issuer = id.issuer;
    row.subject = id.subject;
    row.email = usableEmail(id.email);
    row.createdAt = now;
    row.lastUsedAt = now;
    await this.identities.insert(tx, row);
    await this.audit.record(tx, {
      actorId: user.id,
      action: 'identity.link',
      targetType: 'user',
      targetId: user.id,
      changes: { identityId: row.id, providerId, issuer: id.issuer, subject: id.subject, via },
    });
  }

  /**
   * The provider (or the confirm-link password) proved the first step only: with a factor in force
   * the browser goes on to the second step and no session exists yet; without one, a session,
   * enrolment-only when MFA_REQUIRED or a workspace requires a factor of this user.
   */
  private async session(
    tx: Tx,
    user: User,
    ctx: SessionContext,
    returnTo: string,
  ): Promise<SignInOutcome> {
    const amr = ctx.amr ?? 'ext';
    const next = await this.mfa.afterFirstStep(tx, user, amr, ctx.method);
    if (next.kind === 'challenge')
      return { kind: 'mfa', userId: user.id, mfaToken: next.challenge.mfaToken, returnTo };
    const { session, token } = await this.sessions.create(tx, user, {
      ...ctx,
      amr,
      mfaEnrolment: next.mfaEnrolment,
    });
    return {
      kind: 'signed_in',
      userId: user.id,
      token,
      expiresAt: session.expiresAt.toISOString(),
      returnTo,
    };
  }

  /**
   * Session regeneration at sign-in: the session the browser held before (whoever it belonged to)
   * is revoked once the new one exists, so the old cookie value is worthless.
   */
  async retirePreviousSession(req: FastifyRequest, previous: string | undefined): Promise<void> {
    if (!previous || !this.sessions.accepts(previous)) return;
    const principal = await this.sessions.resolve(previous, 'cookie');
    if (!principal) return;
    await this.db.transaction((tx) =>
      this.sessions.revokeById(tx, principal.credential.id, principal.userId, principal.userId),
    );
  }

  private notifyLinked(to: string | null, providerName: string): void {
    this.mail.sendInBackground({
      to,
      subject: 'A new sign-in method was linked to your Gatehouse account',
      text: `A new sign-in method was linked to your Gatehouse account: ${providerName}, on ${new Date().toUTCString()}.\n\nFrom now on you can sign in with it. If this was not you, sign in and unlink it (or ask an administrator) and change your password.\n\n${this.mail.link('/signin')}`,
    });
  }

  private async pending(linkToken: string | undefined): Promise<OidcPendingLink> {
    if (!linkToken || linkToken.length > 200) throw new SignInError('link_expired');
    const row = await this.repo.findPendingLink(sha256Hex(linkToken));
    if (!row || row.expiresAt.getTime() <= Date.now()) throw new SignInError('link_expired');
    return row;
  }

  /** What the confirm-link page shows: which provider, which external email, which account. */
  async describePendingLink(linkToken: string | undefined): Promise<PendingLinkView> {
    const row = await this.pending(linkToken);
    const user = await this.users.findById(row.userId);
    if (!user) throw new SignInError('link_expired');
    return {
      providerName: this.providers.find(row.providerId)?.name ?? row.providerId,
      externalEmail: row.email,
      accountEmail: user.email ?? '',
    };
  }

  /**
   * The confirm-link step: the local password proven (one bcrypt comparison, counted by the
   * account lock-out like any sign-in), then the identity is linked and a session started, once.
   * A wrong password leaves the pending link for a few more tries; returns null then.
   */
  async confirmLink(
    linkToken: string | undefined,
    password: string,
    ctx: SessionContext,
  ): Promise<SignInOutcome | null> {
    const row = await this.pending(linkToken);
    const user = await this.users.findByIdWithPasswordHash(row.userId);
    const ok = await this.passwords.verify(password, user?.passwordHash);
    if (!user) throw new SignInError('link_expired');
    const locked = user.lockedUntil !== null && user.lockedUntil.getTime() > Date.now();
    if (!ok || locked) {
      if (!ok) await this.auth.recordFailure(user.id);
      const failures = row.failedAttempts + 1;
      await this.db.transaction(async (tx) => {
        if (failures >= PENDING_LINK_MAX_FAILURES) await this.repo.deletePendingLink(tx, row.id);
        else await this.repo.countPendingFailure(tx, row.id, failures);
      });
      if (failures >= PENDING_LINK_MAX_FAILURES) throw new SignInError('link_expired');
      return null;
    }
    if (user.status !== 'active') throw new SignInError('account_not_active');
    const provider = this.providers.find(row.providerId);
    if (!provider) throw new SignInError('unknown_provider');
    const outcome = await this.db.transaction(async (tx) => {
      if (!(await this.repo.deletePendingLink(tx, row.id))) throw new SignInError('link_expired');
      const now = new Date();
      const linked = await this.identities.findByIssuerSubject(row.issuer, row.subject, tx);
      if (linked && linked.userId !== user.id) throw new SignInError('identity_linked_elsewhere');
      if (!linked) {
        if (await this.identities.findByUserAndIssuer(user.id, row.issuer, tx))
          throw new SignInError('other_identity_at_issuer');
        await this.link(
          tx,
          user,
          row.providerId,
          {
            issuer: row.issuer,
            subject: row.subject,
            email: row.email,
            emailVerified: true,
            name: null,
            claims: {},
          },
          now,
          'password_confirmed',
        );
      } else {
        await this.identities.touch(linked.id, now, tx);
      }
      const out = await this.session(
        tx,
        user,
        { ...ctx, method: `oidc:${row.providerId}` },
        row.returnTo,
      );
      // Only a completed sign-in resets the failure count (not one still waiting for its factor).
      if (
        out.kind === 'signed_in' &&
        (user.failedLogins > 0 || user.lockCount > 0 || user.lockedUntil)
      ) {
        await this.users.applyChanges(tx, user, {
          failedLogins: 0,
          lockCount: 0,
          lockedUntil: null,
        });
      }
      return out;
    });
    this.notifyLinked(user.email, provider.name);
    return outcome;
  }
}
