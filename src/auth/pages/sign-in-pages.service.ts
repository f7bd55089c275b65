import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { UsersService } from '#src/users/users.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { SessionsService, type SessionContext } from '#src/auth/sessions/sessions.service.js';
import { OidcLinkingService, type SignInOutcome } from '#src/auth/oidc/oidc-linking.service.js';
import { OidcProvidersService } from '#src/auth/oidc/oidc-providers.service.js';
import { DEFAULT_RETURN_TO, parseReturnTo } from '#src/auth/oidc/return-to.js';
import { SignInError } from '#src/auth/oidc/sign-in-error.js';
import type { ProviderButton } from '#src/auth/pages/html.js';

export type PasswordSignIn =
  | { kind: 'signed_in'; token: string; expiresAt: string; returnTo: string }
  | { kind: 'mfa'; mfaToken: string; returnTo: string }
  | { kind: 'refused'; message: string };

/** The server-rendered sign-in pages: password sign-in, who is signed in, sign-out, CSRF check. */
@Injectable()
export class SignInPagesService {
  private readonly origin: string;

  constructor(
    config: AppConfig,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly providers: OidcProvidersService,
    private readonly linking: OidcLinkingService,
  ) {
    this.origin = new URL(config.publicUrl).origin;
  }

  /** A returnTo for a page: a relative path, or the default. */
  returnTo(raw: unknown): string {
    return parseReturnTo(raw) ?? DEFAULT_RETURN_TO;
  }

  buttons(returnTo: string): ProviderButton[] {
    const query = returnTo === DEFAULT_RETURN_TO ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
    return this.providers.list().map((p) => ({
      name: p.name,
      url: `/api/v1/auth/oidc/${encodeURIComponent(p.id)}/login${query}`,
    }));
  }

  /**
   * Forms are posted only from our own pages: the Origin (or, failing it, the Referer) must be
   * this site. With the session cookie SameSite=Lax, a cross-site form cannot sign anyone in or out.
   */
  checkOrigin(req: FastifyRequest): void {
    let origin = req.headers.origin;
    if (!origin && req.headers.referer) {
      try {
        origin = new URL(req.headers.referer).origin;
      } catch {
        origin = undefined;
      }
    }
    if (origin !== this.origin) throw new SignInError('csrf', 'form origin check failed');
  }

  async passwordSignIn(
    req: FastifyRequest,
    body: Record<string, unknown>,
    ctx: SessionContext,
    previous: string | undefined,
  ): Promise<PasswordSignIn> {
    this.checkOrigin(req);
    const username = typeof body['username'] === 'string' ? body['username'].trim() : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    if (!username || !password || username.length > 254 || password.length > 1024)
      return { kind: 'refused', message: 'Enter your email and password.' };
    try {
      const out = await this.auth.login(username, password, ctx);
      // A second factor in force: the code step (/signin/mfa) finishes the sign-in.
      if (!('token' in out))
        return { kind: 'mfa', mfaToken: out.mfaToken, returnTo: this.returnTo(body['returnTo']) };
      await this.linking.retirePreviousSession(req, previous);
      return {
        kind: 'signed_in',
        token: out.token,
        expiresAt: out.expiresAt,
        returnTo: this.returnTo(body['returnTo']),
      };
    } catch (err) {
      if (err instanceof AppException && err.code === 'unauthenticated')
        return { kind: 'refused', message: 'The email or password is incorrect.' };
      if (err instanceof AppException && err.code === 'validation_failed')
        return { kind: 'refused', message: 'The email or password is incorrect.' };
      throw err;
    }
  }

  async confirmLink(
    req: FastifyRequest,
    body: Record<string, unknown>,
    linkToken: string | undefined,
    ctx: SessionContext,
    previous: string | undefined,
  ): Promise<SignInOutcome | null> {
    this.checkOrigin(req);
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    if (!password || password.length > 1024) {
      await this.linking.describePendingLink(linkToken);
      return null;
    }
    const out = await this.linking.confirmLink(linkToken, password, ctx);
    if (out?.kind === 'signed_in') await this.linking.retirePreviousSession(req, previous);
    return out;
  }

  async signedInAs(
    req: FastifyRequest,
    token: string | undefined,
  ): Promise<{ email: string; fullName: string | null } | null> {
    if (!token || !this.sessions.accepts(token)) return null;
    const principal = await this.sessions.resolve(token, 'cookie');
    if (!principal) return null;
    const user = await this.users.findById(principal.userId);
    return user ? { email: user.email ?? user.id, fullName: user.fullName } : null;
  }

  async signOut(req: FastifyRequest, token: string | undefined): Promise<void> {
    this.checkOrigin(req);
    await this.linking.retirePreviousSession(req, token);
  }
}
