import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { paramsOf, requestPath, sentAsJson } from '#src/common/http/request.js';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { permits } from '#src/kernel/permissions.js';
import { AUTH_METADATA, type AuthRequirement } from '#src/kernel/auth.decorators.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import {
  assertMayChangeCredentials,
  type AuthenticatedRequest,
  type Principal,
} from '#src/kernel/principal.js';
import { setRequestImpersonation } from '#src/common/request-context.js';

export const SESSION_COOKIE = 'gh_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Writes under these user sub-resources change passwords, factors or credentials. */
const CREDENTIAL_PATHS =
  /\/users\/[^/]+\/(password|api-keys|grants|authentications|mfa|sessions|impersonate)(\/|$)|\/users\/impersonate$/;

type SignedInRequirement = Extract<AuthRequirement, { public: false }>;

// Set on a request whose route declared `setsSessionCookie` (and so passed the cross-site check).
const SIGN_IN_ROUTE = Symbol('gatehouse:sets-session-cookie');

/** Whether the route of this request declared that it sets the session cookie. */
export function declaresSessionCookie(req: object): boolean {
  return (req as { [SIGN_IN_ROUTE]?: boolean })[SIGN_IN_ROUTE] === true;
}

/** Reads the credential a request carries: the Authorization header first, then the session cookie. */
export function credentialOf(
  req: AuthenticatedRequest,
): { token: string; via: 'header' | 'cookie' } | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] ? { token: m[1], via: 'header' } : { token: '', via: 'header' };
  }
  const cookies = (req as { cookies?: Record<string, string> }).cookies;
  const cookie = cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : null;
}

/**
 * Deny by default: every route needs a signed-in caller unless marked @Public(). The route's
 * declared permission is checked here, before the handler runs.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly publicOrigin: string;

  constructor(
    private readonly reflector: Reflector,
    private readonly registry: CredentialRegistry,
    config: AppConfig,
  ) {
    this.publicOrigin = new URL(config.publicUrl).origin;
  }

  /** Synchronous for public routes (and for a credential its resolver answers at once). */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(
      AUTH_METADATA,
      [context.getHandler(), context.getClass()],
    ) ?? { public: false };
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (requirement.public) {
      if (requirement.setsSessionCookie) {
        if (!SAFE_METHODS.has(req.method)) this.refuseCrossSiteForm(req);
        (req as { [SIGN_IN_ROUTE]?: boolean })[SIGN_IN_ROUTE] = true;
      }
      return true;
    }
    const principal = this.authenticate(req);
    return principal instanceof Promise
      ? principal.then((p) => this.admit(req, requirement, p))
      : this.admit(req, requirement, principal);
  }

  /** The signed-in caller may use this route: CSRF, impersonation, MFA enrolment, permission. */
  private admit(
    req: AuthenticatedRequest,
    requirement: SignedInRequirement,
    principal: Principal,
  ): true {
    if (principal.credential.via === 'cookie' && !SAFE_METHODS.has(req.method))
      this.checkOrigin(req);
    req.principal = principal;
    if (principal.impersonation) {
      setRequestImpersonation(req, principal.impersonation);
      if (
        requirement.changesCredentials ||
        (!SAFE_METHODS.has(req.method) && CREDENTIAL_PATHS.test(requestPath(req)))
      )
        assertMayChangeCredentials(principal);
    }

    if (principal.mfaEnrolmentRequired && !requirement.duringMfaEnrolment) {
      throw new AppException(
        'forbidden',
        'A second factor is required on this account: enrol one (POST /api/v1/users/me/mfa/totp or /webauthn/options) first.',
        undefined,
        { type: 'https://gatehouse.dev/problems/mfa-enrolment-required' },
      );
    }
    if (requirement.credentials && !requirement.credentials.includes(principal.credential.kind)) {
      throw AppException.forbidden(
        `This route cannot be used with a credential of kind ${principal.credential.kind}.`,
      );
    }
    if (requirement.permission !== undefined) {
      const selfParam = requirement.self ? paramsOf(req)[requirement.self] : undefined;
      const isSelf =
        selfParam !== undefined && (selfParam === 'me' || selfParam === principal.userId);
      if (!isSelf && !permits(principal.permissions, requirement.permission)) {
        throw AppException.forbidden(`This needs the permission ${requirement.permission}.`);
      }
    }
    return true;
  }

  /** The caller's principal: at once when the resolver answers at once. */
  private authenticate(req: AuthenticatedRequest): Principal | Promise<Principal> {
    if (req.principal) return req.principal;
    const credential = credentialOf(req);
    if (!credential || credential.token === '') throw AppException.unauthenticated();
    const resolved = this.registry
      .find(credential.token)
      ?.resolve(credential.token, credential.via, req.id);
    return resolved instanceof Promise ? resolved.then(signedIn) : signedIn(resolved ?? null);
  }

  /**
   * Login CSRF: a route that sets the session cookie takes JSON (a browser cannot send JSON
   * cross-site without a CORS preflight, which Gatehouse never grants) or a form from our own pages
   * (matching Origin). Anything else (form, multipart, text/plain, no body) from elsewhere: 403.
   */
  private refuseCrossSiteForm(req: AuthenticatedRequest): void {
    if (sentAsJson(req)) return;
    this.checkOrigin(req, 'Forms that sign in must be sent from this site (Origin check failed).');
  }

  /** Cookie-authenticated writes must come from our own origin (CSRF). */
  private checkOrigin(
    req: AuthenticatedRequest,
    detail = 'Cookie-authenticated changes must come from this site (Origin check failed).',
  ): void {
    const origin =
      req.headers.origin ?? (req.headers.referer ? safeOrigin(req.headers.referer) : undefined);
    if (origin !== this.publicOrigin) {
      throw new AppException('csrf_failed', detail);
    }
  }
}

function signedIn(principal: Principal | null): Principal {
  if (!principal)
    throw AppException.unauthenticated('The credential is invalid, expired or revoked.');
  return principal;
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
