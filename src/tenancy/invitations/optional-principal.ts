import { Injectable } from '@nestjs/common';
import { sentAsJson } from '#src/common/http/request.js';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { credentialOf } from '#src/kernel/auth.guard.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import type { AuthenticatedRequest, Principal } from '#src/kernel/principal.js';

/**
 * Who a public route's request is signed in as, if anyone: invitation routes are public (a new
 * person has no account) but a known person accepts while signed in. A bad bearer credential is a
 * 401 (the client meant to be someone); a stale cookie counts as signed out. A cookie-borne
 * principal on a form post must come from this site (the same Origin check as the sign-in form).
 */
@Injectable()
export class OptionalPrincipal {
  private readonly origin: string;

  constructor(
    private readonly registry: CredentialRegistry,
    config: AppConfig,
  ) {
    this.origin = new URL(config.publicUrl).origin;
  }

  async of(req: FastifyRequest): Promise<Principal | null> {
    const r = req as AuthenticatedRequest;
    const credential = credentialOf(r);
    if (!credential) return null;
    const resolver = credential.token ? this.registry.find(credential.token) : undefined;
    const principal = resolver ? await resolver.resolve(credential.token, credential.via) : null;
    if (!principal) {
      if (credential.via === 'header')
        throw AppException.unauthenticated('The credential is invalid, expired or revoked.');
      return null;
    }
    if (credential.via === 'cookie' && req.method !== 'GET' && !sentAsJson(req)) {
      if (!this.sameOrigin(req))
        throw new AppException(
          'csrf_failed',
          'Forms must be sent from this site (Origin check failed).',
        );
    }
    r.principal = principal;
    return principal;
  }

  sameOrigin(req: FastifyRequest): boolean {
    const origin = req.headers.origin ?? safeOrigin(req.headers.referer);
    return origin === this.origin;
  }
}

function safeOrigin(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
