import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { generateToken, hasTokenShape, isWellFormedToken, sha256Hex } from '#src/crypto/tokens.js';
import type { Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { UsersService } from '#src/users/users.service.js';
import type { User } from '#src/users/user.entity.js';
import {
  ResolvesCredentials,
  type CredentialResolver,
  type Resolved,
} from '#src/kernel/credential-registry.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { withCredential, type Principal } from '#src/kernel/principal.js';
import { PrincipalChanges } from '#src/auth/cache/principal-changes.js';
import { SessionCache } from '#src/auth/sessions/session-cache.js';
import { SessionsRepository } from '#src/auth/sessions/sessions.repository.js';
import { OnUserEvent, type UserEvents } from '#src/kernel/events.js';

export const SESSION_PREFIX = 'gths_';
const TOUCH_EVERY_MS = 60_000;
/**
 * Session lookups are cached this long (see CredentialCache). Revocations and role changes reach
 * the caches of every instance before their next request (see PrincipalChanges); the TTL only
 * bounds what Redis can lose while it stays subscribed.
 */
export const SESSION_CACHE_TTL_MS = 2_000;
const SESSION_CACHE_MAX = 10_000;
/** Longer than a revoking transaction takes to commit. */
const SESSION_CACHE_BYPASS_MS = 10_000;

export interface SessionResponse {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  method: string;
  current: boolean;
  /** Only on impersonation sessions: who acted as the user, and why. */
  impersonatedBy?: { id: string; email: string };
  reason?: string;
}

export interface SessionContext {
  ip: string | null;
  userAgent: string | null;
  method: string;
  /** RFC 8176 authentication methods; default from `method` (`pwd`, or `ext` for a provider). */
  amr?: string;
  /** The session may only enrol a second factor (MFA_REQUIRED) until it does. */
  mfaEnrolment?: boolean;
}

/** A new session and its token (the only time the token exists outside its hash). */
export interface StartedSession {
  session: Session;
  token: string;
}

export function sessionContext(req: FastifyRequest, method: string): SessionContext {
  return {
    ip: req.ip ?? null,
    userAgent: (req.headers['user-agent'] ?? '').slice(0, 255) || null,
    method,
  };
}

/** Sign-in sessions: opaque tokens stored hashed, with idle and absolute timeouts. */
@Injectable()
@ResolvesCredentials()
export class SessionsService implements CredentialResolver {
  readonly kind = 'session';
  readonly cache = new SessionCache(
    SESSION_CACHE_TTL_MS,
    SESSION_CACHE_MAX,
    SESSION_CACHE_BYPASS_MS,
  );

  constructor(
    private readonly config: AppConfig,
    private readonly repo: SessionsRepository,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly changes: PrincipalChanges,
  ) {}

  @OnUserEvent('user.credentials-changed')
  async onCredentialsChanged(tx: Tx, e: UserEvents['user.credentials-changed']): Promise<void> {
    await this.revokeAllForUser(tx, e.userId, e.keepSessionId, e.userId, 'credentials changed');
  }

  @OnUserEvent('user.disabled')
  async onDisabled(tx: Tx, e: UserEvents['user.disabled']): Promise<void> {
    await this.revokeAllForUser(tx, e.userId, null, null, 'user disabled');
  }

  async create(
    tx: Tx,
    user: User,
    ctx: SessionContext,
    impersonation?: { by: { id: string; email: string }; reason: string; minutes: number },
  ): Promise<StartedSession> {
    // A service account (an OAuth client's) never signs in with a browser.
    if (user.kind === 'service') throw AppException.unauthenticated('This account cannot sign in.');
    const token = generateToken(SESSION_PREFIX);
    const now = new Date();
    const session = new Session();
    session.id = newId();
    session.userId = user.id;
    session.tokenHash = sha256Hex(token);
    session.createdAt = now;
    session.lastSeenAt = now;
    session.expiresAt = new Date(now.getTime() + this.config.sessionAbsoluteHours * 3_600_000);
    session.ip = ctx.ip;
    session.userAgent = ctx.userAgent;
    session.method = ctx.method;
    session.revokedAt = null;
    session.authTime = now;
    session.amr = ctx.amr ?? (ctx.method === 'password' ? 'pwd' : 'ext');
    session.mfaEnrolment = ctx.mfaEnrolment ?? false;
    session.impersonatorId = impersonation?.by.id ?? null;
    session.impersonatorEmail = impersonation?.by.email ?? null;
    session.impersonationReason = impersonation?.reason ?? null;
    if (impersonation) session.expiresAt = new Date(now.getTime() + impersonation.minutes * 60_000);
    await this.repo.insert(tx, session);
    await this.audit.record(tx, {
      actorId: user.id,
      action: 'session.create',
      targetType: 'user',
      targetId: user.id,
      changes: {
        sessionId: session.id,
        method: ctx.method,
        amr: session.amr,
        ip: ctx.ip,
        ...(session.mfaEnrolment ? { mfaEnrolment: true } : {}),
        ...(impersonation
          ? { impersonatedBy: impersonation.by, impersonationReason: impersonation.reason }
          : {}),
      },
    });
    return { session, token };
  }

  /** Logout through a session ends that session. */
  async revokeForLogout(tx: Tx, p: Principal): Promise<void> {
    await this.revokeById(tx, p.credential.id, p.userId, p.userId);
  }

  /** The prefix and length of a session token; the checksum is `resolve`'s to check. */
  accepts(token: string): boolean {
    return hasTokenShape(token, SESSION_PREFIX);
  }

  resolve(token: string, via: 'header' | 'cookie'): Resolved {
    const tokenHash = sha256Hex(token);
    // A token the cache holds passed the checksum when it was cached; any other is checked here,
    // before any lookup (a cache hit skips the CRC32, a few % of a cached request).
    if (!this.cache.holds(tokenHash) && !isWellFormedToken(token, SESSION_PREFIX)) return null;
    return this.changes.whenCaughtUp(() => this.resolveHash(tokenHash, via));
  }

  /** From the cache when it holds the session (synchronously unless it is time to touch it). */
  private resolveHash(tokenHash: string, via: 'header' | 'cookie'): Resolved {
    const now = Date.now();
    const cached = this.cache.get(tokenHash, now);
    if (!cached) return this.resolveUncached(tokenHash, via, now);
    if (!this.live(cached.expiresAt, cached.lastSeenAt, now)) return null;
    const principal = withCredential(cached.principal, {
      kind: 'session',
      id: cached.sessionId,
      via,
    });
    if (now - cached.lastSeenAt <= TOUCH_EVERY_MS) return principal;
    cached.lastSeenAt = now;
    return this.repo.touch(cached.sessionId, new Date(now)).then(() => principal);
  }

  private async resolveUncached(
    tokenHash: string,
    via: 'header' | 'cookie',
    now: number,
  ): Promise<Principal | null> {
    const generation = this.cache.generation;
    const found = await this.repo.findActiveByHash(tokenHash);
    if (!found) return null;
    const { session, user } = found;
    let lastSeenAt = session.lastSeenAt.getTime();
    if (!this.live(session.expiresAt.getTime(), lastSeenAt, now)) return null;
    if (user.status !== 'active') return null;
    if (now - lastSeenAt > TOUCH_EVERY_MS) {
      lastSeenAt = now;
      await this.repo.touch(session.id, new Date(now));
    }
    const principal = await this.users.principalFor(user, { kind: 'session', id: session.id, via });
    if (session.mfaEnrolment) principal.mfaEnrolmentRequired = true;
    if (session.impersonatorId)
      principal.impersonation = {
        by: { id: session.impersonatorId, email: session.impersonatorEmail ?? '' },
        reason: session.impersonationReason ?? '',
      };
    const { credential: _credential, ...rest } = principal;
    this.cache.set(
      tokenHash,
      {
        sessionId: session.id,
        userId: user.id,
        expiresAt: session.expiresAt.getTime(),
        lastSeenAt,
        principal: rest,
        cachedAt: Date.now(),
      },
      now,
      generation,
    );
    return principal;
  }

  private live(expiresAt: number, lastSeenAt: number, now: number): boolean {
    return expiresAt > now && lastSeenAt + this.config.sessionIdleMinutes * 60_000 > now;
  }

  /** When and how the session's person last proved who they are (null: not a live session). */
  async authState(
    userId: string,
    sessionId: string,
  ): Promise<{ authTime: Date; amr: string | null } | null> {
    const s = await this.repo.findForUser(userId, sessionId);
    if (!s) return null;
    return { authTime: s.authTime ?? s.createdAt, amr: s.amr };
  }

  /** Re-authentication: the session's auth time becomes now. */
  async markAuthenticated(tx: Tx, sessionId: string, amr: string): Promise<void> {
    await tx.getRepository(Session).update({ id: sessionId }, { authTime: new Date(), amr });
  }

  /** The user enrolled a factor: their sessions waiting for one work fully again. */
  async endEnrolment(tx: Tx, userId: string): Promise<void> {
    await tx.getRepository(Session).update({ userId, mfaEnrolment: true }, { mfaEnrolment: false });
    // Cached principals carry the restriction: every instance forgets them before its next request.
    await this.changes.userRevoked(tx, userId);
  }

  async revoke(tx: Tx, session: Session, actorId: string | null): Promise<void> {
    await this.changes.userRevoked(tx, session.userId);
    if (await this.repo.revoke(tx, session.id, new Date())) {
      await this.audit.record(tx, {
        actorId,
        action: 'session.revoke',
        targetType: 'user',
        targetId: session.userId,
        changes: { sessionId: session.id },
      });
    }
  }

  async revokeById(
    tx: Tx,
    sessionId: string,
    userId: string,
    actorId: string | null,
  ): Promise<boolean> {
    const session = await this.repo.findForUser(userId, sessionId);
    if (!session) return false;
    await this.revoke(tx, session, actorId);
    return true;
  }

  async revokeAllForUser(
    tx: Tx,
    userId: string,
    exceptId: string | null,
    actorId: string | null,
    reason: string,
  ): Promise<void> {
    await this.changes.userRevoked(tx, userId);
    const ids = await this.repo.revokeAllForUser(tx, userId, exceptId, new Date());
    if (ids.length) {
      await this.audit.record(tx, {
        actorId,
        action: 'session.revoke_all',
        targetType: 'user',
        targetId: userId,
        changes: { sessionIds: ids, reason },
      });
    }
  }

  async list(
    userId: string,
    limit: number,
    cursor: string | undefined,
    currentId: string | null,
  ): Promise<Page<SessionResponse>> {
    const after = decodeCursor(cursor, 2) as [string, string] | null;
    const rows = await this.repo.listForUser(userId, after, limit + 1);
    return toPage(
      rows,
      limit,
      (s) => [s.createdAt.toISOString(), s.id],
      (s) => toSessionResponse(s, currentId),
    );
  }

  async get(userId: string, sessionId: string, currentId: string | null): Promise<SessionResponse> {
    const s = await this.repo.findForUser(userId, sessionId);
    if (!s || s.expiresAt.getTime() <= Date.now()) throw AppException.notFound('Session');
    return toSessionResponse(s, currentId);
  }
}

export function toSessionResponse(s: Session, currentId: string | null): SessionResponse {
  return {
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
    method: s.method,
    current: s.id === currentId,
    ...(s.impersonatorId
      ? {
          impersonatedBy: { id: s.impersonatorId, email: s.impersonatorEmail ?? '' },
          reason: s.impersonationReason ?? '',
        }
      : {}),
  };
}
