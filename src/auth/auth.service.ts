import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { afterAnswer, inRequestBackground } from '#src/common/request-context.js';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { generateToken, sha256Hex } from '#src/crypto/tokens.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { MailService } from '#src/mail/mail.service.js';
import { UsersService } from '#src/users/users.service.js';
import type { User } from '#src/users/user.entity.js';
import { toUserResponse, type UserResponse } from '#src/users/user.mapper.js';
import { UserToken, type UserTokenKind } from '#src/auth/entities/user-token.entity.js';
import { PasswordService } from '#src/crypto/password.service.js';
import type { Principal } from '#src/kernel/principal.js';
import {
  SessionsService,
  type SessionContext,
  type StartedSession,
} from '#src/auth/sessions/sessions.service.js';
import { UserTokensRepository } from '#src/auth/user-tokens.repository.js';
import { LoginMetrics } from '#src/auth/login-metrics.js';
import { UserEventBus } from '#src/kernel/events.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import {
  MfaService,
  type MfaChallengeResponse,
  type SecondFactorInput,
} from '#src/auth/mfa/mfa.service.js';
import { WebAuthnService } from '#src/auth/mfa/webauthn.service.js';

export interface SignUpResult {
  user: UserResponse;
  /** Null when the account waits for its mailed activation (REGISTRATION=activation). */
  token: string | null;
  expiresAt: string | null;
  activationRequired: boolean;
}

export interface SignedIn {
  user: UserResponse;
  token: string;
  expiresAt: string;
}

const LOCK_BASE_MS = 60_000;
const LOCK_MAX_MS = 3_600_000;

/** The one answer to every failed sign-in, whatever the reason (no account enumeration). */
export const SIGN_IN_FAILED = new AppException(
  'unauthenticated',
  'The username or password is incorrect.',
);

@Injectable()
export class AuthService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly tokens: UserTokensRepository,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly metrics: LoginMetrics,
    private readonly events: UserEventBus,
    private readonly registry: CredentialRegistry,
    private readonly mfa: MfaService,
    private readonly webauthn: WebAuthnService,
  ) {}

  /**
   * Passwordless sign-in with a discoverable passkey. A refused assertion names no account, so it
   * counts toward no lock-out; a locked, pending or disabled account gets the sign-in 401.
   */
  async loginPasskey(response: Record<string, unknown>, ctx: SessionContext): Promise<SignedIn> {
    const user = await this.webauthn.authenticate(response);
    if (!user || user.status !== 'active' || (user.lockedUntil && user.lockedUntil > new Date())) {
      this.metrics.outcome('bad_second_factor');
      throw SIGN_IN_FAILED;
    }
    return this.completeSignIn(user, { ...ctx, amr: 'hwk user' });
  }

  /**
   * The first user becomes admin and is signed in. Later signups follow SIGNUP (a workspace of
   * their own, or 403) and REGISTRATION like /auth/register: closed is 403, activation leaves the
   * account pending with a mailed link (no session), open signs them in.
   */
  async signup(
    email: string,
    password: string,
    fullName: string | undefined,
    ctx: SessionContext,
  ): Promise<SignUpResult> {
    this.passwords.check(password);
    const result = await this.db.transaction(async (tx) => {
      // Serialise "is this the first user?" with every other write through the audit chain head.
      await this.audit.lockChain(tx);
      const first = (await this.users.countUsers(tx)) === 0;
      if (first && this.config.isProduction) {
        // Whoever reached a new instance first would own it: the operator names the first admin.
        throw AppException.forbidden(
          'The first admin of a production server is not created by signup: set BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD (or BOOTSTRAP_ADMIN_PASSWORD_FILE) and restart, or run `gatehouse users create --admin`.',
        );
      }
      if (!first && this.config.signup === 'closed') {
        throw AppException.forbidden(
          'Signup is closed on this server; ask an admin for an account.',
        );
      }
      if (!first && this.config.registration === 'closed') {
        throw AppException.forbidden('Registration is closed; an admin creates accounts.');
      }
      const pending = !first && this.config.registration === 'activation';
      const user = await this.users.createUser(
        tx,
        {
          email,
          password,
          fullName: fullName ?? null,
          role: first ? 'admin' : 'user',
          status: pending ? 'pending' : 'active',
          // The first admin is the operator of a development server, not a stranger: an
          // unverified admin could be claimed by a provider trusted for linking (DESIGN.md).
          emailVerified: first,
        },
        null,
      );
      if (!first) await this.events.emit(tx, 'user.signed-up', { user });
      if (pending) {
        const activation = await this.issueToken(
          tx,
          user.id,
          'activation',
          this.config.activationHours * 60,
        );
        return { user, activation, session: null };
      }
      return { user, activation: null, session: await this.sessions.create(tx, user, ctx) };
    });
    if (result.activation) this.mailActivation(result.user, result.activation);
    return {
      user: await this.users.toResponse(result.user),
      token: result.session?.token ?? null,
      expiresAt: result.session?.session.expiresAt.toISOString() ?? null,
      activationRequired: result.activation !== null,
    };
  }

  /** Mails a fresh activation link to a pending user (an admin created them `pending`). */
  async sendActivation(userId: string): Promise<void> {
    const { user, token } = await this.db.transaction(async (tx) => {
      const target = await this.users.requireUser(userId, tx);
      const t = await this.issueToken(
        tx,
        target.id,
        'activation',
        this.config.activationHours * 60,
      );
      return { user: target, token: t };
    });
    if (user.status === 'pending') this.mailActivation(user, token);
  }

  private mailActivation(user: User, token: string): void {
    this.mail.sendInBackground({
      to: user.email,
      subject: 'Activate your Gatehouse account',
      text: `Welcome to Gatehouse.\n\nActivate your account: ${this.mail.link(`/activate?token=${encodeURIComponent(token)}`)}\n\nThe token: ${token}\nIt expires in ${this.config.activationHours} hours.`,
    });
  }

  /** Self-registration per REGISTRATION: open (active now), activation (mailed link), closed (403). */
  async register(
    email: string,
    password: string,
    fullName: string | undefined,
  ): Promise<UserResponse> {
    if (this.config.registration === 'closed')
      throw AppException.forbidden('Registration is closed; an admin creates accounts.');
    this.passwords.check(password);
    const open = this.config.registration === 'open';
    const { user, token } = await this.db.transaction(async (tx) => {
      const created = await this.users.createUser(
        tx,
        {
          email,
          password,
          fullName: fullName ?? null,
          status: open ? 'active' : 'pending',
          emailVerified: false,
        },
        null,
      );
      const activation = open
        ? null
        : await this.issueToken(tx, created.id, 'activation', this.config.activationHours * 60);
      return { user: created, token: activation };
    });
    if (token) this.mailActivation(user, token);
    return this.users.toResponse(user);
  }

  /** Activates a pending user (or an invited one, who may set a password here) from the mailed token. */
  async activate(token: string, password: string | undefined): Promise<UserResponse> {
    if (password !== undefined) this.passwords.check(password);
    const user = await this.db.transaction(async (tx) => {
      const row = await this.tokens.findUsable(sha256Hex(token), ['activation', 'invitation'], tx);
      if (!row || !(await this.tokens.consume(tx, row.id)))
        throw AppException.invalid('token', 'is unknown, used or expired');
      const target = await this.users.requireUser(row.userId, tx);
      if (target.status === 'disabled')
        throw AppException.invalid('token', 'is unknown, used or expired');
      // An account nobody could sign in to is never activated: one without a password sets it here.
      if (
        password === undefined &&
        !(await this.users.findByIdWithPasswordHash(target.id, tx))?.passwordHash
      )
        throw AppException.invalid('password', 'is required: the account has no password yet');
      const changes: Partial<User> = { status: 'active', emailVerified: true };
      if (password !== undefined) changes.passwordHash = await this.passwords.hash(password);
      await this.users.applyChanges(tx, target, changes);
      await this.audit.record(tx, {
        actorId: target.id,
        action: 'user.activate',
        targetType: 'user',
        targetId: target.id,
        changes: {
          status: { from: target.status, to: 'active' },
          emailVerified: true,
          passwordSet: password !== undefined,
        },
      });
      return this.users.requireUser(target.id, tx);
    });
    return this.users.toResponse(user);
  }

  /**
   * Password sign-in. With a second factor in force the answer is a challenge (no session); the
   * failure count is reset only by a completed sign-in.
   */
  async login(
    login: string,
    password: string,
    ctx: SessionContext,
  ): Promise<SignedIn | MfaChallengeResponse> {
    let user = await this.users.findForSignIn(login);
    const pending = user ? this.pendingFailures.get(user.id) : undefined;
    if (pending) {
      // This account's previous failure is still being written: its lock state is about to change.
      await pending;
      user = await this.users.findForSignIn(login);
    }
    // Always exactly one bcrypt comparison (a dummy hash for unknown users): timing reveals nothing.
    const passwordOk = await this.passwords.verify(password, user?.passwordHash);
    if (!user) {
      this.metrics.outcome('unknown_user');
      throw SIGN_IN_FAILED;
    }
    const now = new Date();
    if (user.lockedUntil && user.lockedUntil > now) {
      this.metrics.outcome('locked');
      throw SIGN_IN_FAILED;
    }
    if (!passwordOk) {
      // Written after the answer: a write on this path only would tell, by timing, that the account
      // exists. Failures of one account are written in order, and the next attempt waits for them.
      this.recordFailureInBackground(user.id);
      this.metrics.outcome('bad_password');
      throw SIGN_IN_FAILED;
    }
    if (user.status !== 'active') {
      this.metrics.outcome(user.status === 'pending' ? 'pending' : 'disabled');
      throw SIGN_IN_FAILED;
    }
    // One transaction for the second-factor check and, with no factor in force, the session.
    const step = await this.db.transaction(async (tx) => {
      const next = await this.mfa.afterFirstStep(tx, user, 'pwd', ctx.method);
      if (next.kind === 'challenge') return next;
      const started = await this.startSession(tx, user, {
        ...ctx,
        amr: 'pwd',
        mfaEnrolment: next.mfaEnrolment,
      });
      return { kind: 'session' as const, started };
    });
    if (step.kind === 'challenge') {
      this.metrics.outcome('mfa_required');
      return step.challenge;
    }
    return this.signedIn(user, step.started);
  }

  /** Resets the failure count and starts the session of a sign-in that passed every step. */
  private async completeSignIn(
    user: User,
    ctx: SessionContext,
    inTx?: (tx: Tx) => Promise<void>,
  ): Promise<SignedIn> {
    const started = await this.db.transaction(async (tx) => {
      if (inTx) await inTx(tx);
      return this.startSession(tx, user, ctx);
    });
    return this.signedIn(user, started);
  }

  private async startSession(tx: Tx, user: User, ctx: SessionContext): Promise<StartedSession> {
    if (user.failedLogins > 0 || user.lockCount > 0 || user.lockedUntil) {
      await this.users.applyChanges(tx, user, {
        failedLogins: 0,
        lockCount: 0,
        lockedUntil: null,
      });
    }
    return this.sessions.create(tx, user, ctx);
  }

  private async signedIn(user: User, started: StartedSession): Promise<SignedIn> {
    this.metrics.outcome('success');
    return {
      user: await this.users.toResponse(user),
      token: started.token,
      expiresAt: started.session.expiresAt.toISOString(),
    };
  }

  /** Whether the user of a live mfaToken has a passkey (the code step page offers it then). */
  async secondStepHasPasskey(mfaToken: string | undefined): Promise<boolean> {
    if (!mfaToken) return false;
    const login = await this.mfa.liveLoginChallenge(mfaToken);
    if (!login?.userId) return false;
    return (await this.mfa.factorsInForce(login.userId)).some((f) => f.type === 'webauthn');
  }

  /**
   * The options for a passkey as the second step, bound to the mfaToken (taking no attempt). An
   * unknown, expired, spent or exhausted token is the sign-in 401.
   */
  async passkeySecondStepOptions(mfaToken: string): Promise<object> {
    const options = await this.webauthn.secondStepOptions(mfaToken);
    if (!options) {
      this.metrics.outcome('bad_second_factor');
      throw SIGN_IN_FAILED;
    }
    return options;
  }

  /**
   * The second step: an mfaToken (5 minutes, 3 attempts, spent by the one that succeeds) and a
   * TOTP code, a recovery code or a passkey assertion (answering the challenge of
   * `passkeySecondStepOptions`). Every failure is the sign-in 401 and counts toward the lock-out.
   */

  async loginMfa(
    mfaToken: string,
    input: SecondFactorInput & { webauthn?: Record<string, unknown> },
    ctx: SessionContext,
  ): Promise<SignedIn> {
    const given = [input.code, input.recoveryCode, input.webauthn].filter(
      (v) => v !== undefined,
    ).length;
    if (given !== 1)
      throw AppException.invalid('code', 'give exactly one of code, recoveryCode or webauthn');
    const challenge = await this.mfa.takeLoginAttempt(mfaToken);
    if (!challenge?.userId) {
      this.metrics.outcome('bad_second_factor');
      throw SIGN_IN_FAILED;
    }
    const user = await this.users.findById(challenge.userId);
    if (!user || user.status !== 'active') {
      this.metrics.outcome(
        user ? (user.status === 'pending' ? 'pending' : 'disabled') : 'unknown_user',
      );
      throw SIGN_IN_FAILED;
    }
    if (user.lockedUntil && user.lockedUntil > new Date()) {
      this.metrics.outcome('locked');
      throw SIGN_IN_FAILED;
    }
    const refused = new Error('second factor refused');
    // The session is of the first step's kind (a password, or `oidc:<provider>`).
    if (challenge.method) ctx.method = challenge.method;
    const passkeyOk =
      input.webauthn !== undefined &&
      (await this.webauthn.verifySecondStep(user.id, challenge.challenge, input.webauthn));
    try {
      return await this.completeSignIn(user, ctx, async (tx) => {
        const proof =
          input.webauthn !== undefined
            ? passkeyOk
              ? { amr: 'hwk' }
              : null
            : await this.mfa.verifySecondFactor(tx, user.id, input);
        // Thrown, not returned: nothing of a refused attempt is kept but the attempt itself.
        if (!proof || !(await this.mfa.spendChallenge(tx, challenge.id))) throw refused;
        ctx.amr = `${challenge.amr ?? 'pwd'} ${proof.amr} mfa`;
      });
    } catch (err) {
      if (err !== refused) throw err;
      await this.recordFailure(user.id);
      this.metrics.outcome('bad_second_factor');
      throw SIGN_IN_FAILED;
    }
  }

  /**
   * Refreshes the session's sign-in time with the password or a second-factor code. A wrong one is
   * the sign-in 401 and counts toward the lock-out.
   */
  async reauthenticate(principal: Principal, input: SecondFactorInput & { password?: string }) {
    const given = [input.password, input.code, input.recoveryCode].filter(
      (v) => v !== undefined,
    ).length;
    if (given !== 1)
      throw AppException.invalid('password', 'give exactly one of password, code or recoveryCode');
    if (principal.credential.kind !== 'session')
      throw AppException.forbidden('Only a sign-in session can re-authenticate.');
    const user = await this.users.findByIdWithPasswordHash(principal.userId);
    if (!user) throw AppException.unauthenticated();
    if (user.lockedUntil && user.lockedUntil > new Date()) throw SIGN_IN_FAILED;
    let ok = false;
    let amr = 'pwd';
    await this.db.transaction(async (tx) => {
      if (input.password !== undefined) {
        ok = await this.passwords.verify(input.password, user.passwordHash);
      } else {
        const proof = await this.mfa.verifySecondFactor(tx, user.id, input);
        ok = proof !== null;
        if (proof) amr = proof.amr;
      }
      if (!ok) return;
      await this.sessions.markAuthenticated(tx, principal.credential.id, amr);
      if (user.failedLogins > 0) await this.users.applyChanges(tx, user, { failedLogins: 0 });
      await this.audit.record(tx, {
        actorId: user.id,
        action: 'session.reauthenticate',
        targetType: 'user',
        targetId: user.id,
        changes: { sessionId: principal.credential.id, amr },
      });
    });
    if (!ok) {
      await this.recordFailure(user.id);
      throw SIGN_IN_FAILED;
    }
  }

  private readonly pendingFailures = new Map<string, Promise<void>>();

  private recordFailureInBackground(userId: string): void {
    const previous = this.pendingFailures.get(userId) ?? Promise.resolve();
    // The request's context stays on until it is recorded (the lock's audit entry and warning
    // name the request), though the answer does not wait for it.
    const next: Promise<void> = inRequestBackground(
      previous
        .then(() => this.recordFailure(userId))
        .catch((err: unknown) => {
          this.logger.error({
            msg: 'recording a failed sign-in failed',
            userId,
            error: (err as Error).message,
          });
        })
        .finally(() => {
          if (this.pendingFailures.get(userId) === next) this.pendingFailures.delete(userId);
        }),
    );
    this.pendingFailures.set(userId, next);
  }

  /** Resolves when every failed sign-in seen so far is in the database (shutdown, tests). */
  async settleFailures(): Promise<void> {
    while (this.pendingFailures.size > 0) await Promise.all([...this.pendingFailures.values()]);
  }

  // Before the database connection closes (TypeORM closes it at application shutdown).
  async beforeApplicationShutdown(): Promise<void> {
    await this.settleFailures();
  }

  /** Counts a failure in the database (so every instance sees it) and locks with a doubling duration.
   * Also used by the OIDC confirm-link page, whose password proof counts like a sign-in. */
  async recordFailure(userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const u = await this.users.lockForUpdate(tx, userId);
      if (!u) return;
      const failed = u.failedLogins + 1;
      if (failed >= this.config.lockoutThreshold) {
        const duration = Math.min(LOCK_BASE_MS * 2 ** u.lockCount, LOCK_MAX_MS);
        const until = new Date(Date.now() + duration);
        await this.users.applyChanges(tx, u, {
          failedLogins: 0,
          lockCount: u.lockCount + 1,
          lockedUntil: until,
        });
        await this.audit.record(tx, {
          actorId: null,
          action: 'user.lock',
          targetType: 'user',
          targetId: u.id,
          changes: { lockedUntil: until.toISOString(), lockCount: u.lockCount + 1 },
        });
        this.logger.warn({
          msg: 'account locked after failed sign-ins',
          userId: u.id,
          lockedForMs: duration,
        });
      } else {
        await this.users.applyChanges(tx, u, { failedLogins: failed });
      }
    });
  }

  async logout(principal: Principal): Promise<void> {
    // Each kind of credential knows how to end itself (a session, a key, a grant's tokens).
    const resolver = this.registry.ofKind(principal.credential.kind);
    if (resolver) await this.db.transaction((tx) => resolver.revokeForLogout(tx, principal));
  }

  async whoami(principal: Principal): Promise<
    UserResponse & {
      permissions: string[];
      credential: { kind: string; id: string };
      impersonatedBy?: { id: string; email: string };
      reason?: string;
    }
  > {
    // The principal carries the user row and role names it was built from (as fresh as itself).
    const base = principal.user
      ? toUserResponse(principal.user, principal.roles)
      : await this.users.toResponse(await this.users.requireUser(principal.userId));
    // Onto the fresh response, not a spread followed by more fields (see withCredential in the kernel).
    return Object.assign(
      base,
      {
        permissions: principal.permissions,
        credential: { kind: principal.credential.kind, id: principal.credential.id },
      },
      principal.impersonation
        ? { impersonatedBy: principal.impersonation.by, reason: principal.impersonation.reason }
        : {},
    );
  }

  /** Always 202 and the same work on the caller's side: the lookup and mail happen after the answer. */
  requestPasswordReset(email: string): void {
    afterAnswer(
      () => this.sendReset(email),
      (err) => this.logger.error({ msg: 'password reset failed', error: (err as Error).message }),
    );
  }

  private async sendReset(email: string): Promise<void> {
    const user = await this.users.findByEmail(email);
    if (!user || user.status === 'disabled') return;
    const token = await this.db.transaction(async (tx) => {
      const t = await this.issueToken(
        tx,
        user.id,
        'password_reset',
        this.config.passwordResetMinutes,
      );
      await this.audit.record(tx, {
        actorId: null,
        action: 'user.password_reset_request',
        targetType: 'user',
        targetId: user.id,
      });
      return t;
    });
    await this.mail.send({
      to: user.email,
      subject: 'Reset your Gatehouse password',
      text: `Someone asked to reset the password of your Gatehouse account.\n\nSet a new password: ${this.mail.link(`/reset-password?requestId=${encodeURIComponent(token)}`)}\n\nRequest id: ${token}\nIt expires in ${this.config.passwordResetMinutes} minutes and works once. If you did not ask, ignore this mail.`,
    });
  }

  /** Sets the new password, revokes every session, key and grant; does not sign in. */
  async confirmPasswordReset(requestId: string, password: string): Promise<UserResponse> {
    this.passwords.check(password);
    const hash = await this.passwords.hash(password);
    const user = await this.db.transaction(async (tx) => {
      const row = await this.tokens.findUsable(sha256Hex(requestId), ['password_reset'], tx);
      if (!row || !(await this.tokens.consume(tx, row.id)))
        throw AppException.invalid('requestId', 'is unknown, used or expired');
      const target = await this.users.requireUser(row.userId, tx);
      await this.users.applyChanges(tx, target, {
        passwordHash: hash,
        failedLogins: 0,
        lockCount: 0,
        lockedUntil: null,
      });
      await this.tokens.revokeAll(tx, target.id, 'password_reset');
      await this.events.emit(tx, 'user.credentials-changed', {
        userId: target.id,
        keepSessionId: null,
      });
      await this.audit.record(tx, {
        actorId: target.id,
        action: 'user.password_reset',
        targetType: 'user',
        targetId: target.id,
        changes: { passwordChanged: true },
      });
      return this.users.requireUser(target.id, tx);
    });
    return this.users.toResponse(user);
  }

  /** Own password change: proves the current one, revokes every other session. */
  async changePassword(
    principal: Principal,
    current: string,
    next: string,
    confirm: string,
  ): Promise<UserResponse> {
    if (next !== confirm)
      throw AppException.invalid('newPasswordConfirm', 'must equal newPassword');
    this.passwords.check(next, 'newPassword');
    const user = await this.users.findByIdWithPasswordHash(principal.userId);
    if (!user) throw AppException.unauthenticated();
    if (!(await this.passwords.verify(current, user.passwordHash))) {
      throw AppException.rule(
        'current_password_wrong',
        'currentPassword is not correct.',
        'currentPassword',
      );
    }
    const hash = await this.passwords.hash(next);
    await this.db.transaction(async (tx) => {
      await this.users.applyChanges(tx, user, { passwordHash: hash });
      const keep = principal.credential.kind === 'session' ? principal.credential.id : null;
      await this.events.emit(tx, 'user.credentials-changed', {
        userId: user.id,
        keepSessionId: keep,
      });
      await this.audit.record(tx, {
        actorId: user.id,
        action: 'user.password_change',
        targetType: 'user',
        targetId: user.id,
        changes: { passwordChanged: true },
      });
    });
    return this.users.toResponse(await this.users.requireUser(user.id));
  }

  async issueToken(
    tx: Tx,
    userId: string,
    kind: UserTokenKind,
    ttlMinutes: number,
  ): Promise<string> {
    const token = generateToken('gtht_');
    const row = new UserToken();
    row.id = newId();
    row.userId = userId;
    row.kind = kind;
    row.tokenHash = sha256Hex(token);
    row.expiresAt = new Date(Date.now() + ttlMinutes * 60_000);
    row.usedAt = null;
    row.createdAt = new Date();
    await this.tokens.insert(tx, row);
    return token;
  }
}
