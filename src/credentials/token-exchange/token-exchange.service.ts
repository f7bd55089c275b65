import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { AuditService } from '#src/audit/audit.service.js';
import {
  OidcError,
  OidcProvidersService,
  type VerifiedIdentity,
} from '#src/auth/oidc/oidc-providers.service.js';
import { LinkedIdentitiesService } from '#src/auth/oidc/linked-identities.service.js';
import { Database } from '#src/database/database.service.js';
import { UsersService } from '#src/users/users.service.js';
import { FailureAudit } from '#src/credentials/failure-audit.js';
import { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';

export interface ExchangedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  issued_token_type: 'urn:ietf:params:oauth:token-type:access_token';
}

/**
 * Exchanges an ID token (or JWT) from a configured OIDC provider for a Gatehouse access token of
 * the user linked to its (issuer, subject). Never links: an unknown identity is refused.
 */
@Injectable()
export class TokenExchangeService {
  constructor(
    private readonly db: Database,
    private readonly oidc: OidcProvidersService,
    private readonly identities: LinkedIdentitiesService,
    private readonly users: UsersService,
    private readonly tokens: AccessTokensService,
    private readonly audit: AuditService,
    private readonly failures: FailureAudit,
  ) {}

  async exchange(subjectToken: string, providerId: string): Promise<ExchangedToken> {
    if (!this.oidc.find(providerId))
      throw AppException.invalid('provider', 'is not a configured identity provider');
    let identity: VerifiedIdentity;
    try {
      identity = await this.oidc.verifyIdToken(providerId, subjectToken);
    } catch (err) {
      throw toAppException(err);
    }
    const link = await this.identities.findByIssuerSubject(identity.issuer, identity.subject);
    if (!link) {
      throw AppException.unauthenticated(
        'No Gatehouse user is linked to this identity; sign in through the browser once to link it.',
      );
    }
    const user = await this.users.findById(link.userId);
    if (!user || user.status !== 'active') {
      if (user)
        await this.failures.record({
          action: 'token_exchange.refused',
          userId: user.id,
          credentialId: link.id,
          reason: `owner_${user.status}`,
        });
      throw AppException.unauthenticated('The linked user cannot sign in.');
    }
    const minted = await this.tokens.mint({
      userId: user.id,
      grant: null,
      extra: { idp: providerId },
    });
    const now = new Date();
    await this.db.transaction(async (tx) => {
      await this.audit.record(tx, {
        actorId: user.id,
        action: 'access_token.exchange',
        targetType: 'user',
        targetId: user.id,
        changes: { provider: providerId, identityId: link.id, jti: minted.jti },
      });
    });
    await this.identities.touch(link.id, now);
    return {
      access_token: minted.accessToken,
      token_type: 'Bearer',
      expires_in: minted.expiresIn,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    };
  }
}

function toAppException(err: unknown): unknown {
  if (!(err instanceof OidcError)) return err;
  switch (err.reason) {
    case 'unknown_provider':
      return AppException.invalid('provider', 'is not a configured identity provider');
    case 'discovery_failed':
    case 'issuer_mismatch':
    case 'idp_unavailable':
      return new AppException(
        'unavailable',
        'The identity provider could not be reached or is misconfigured; retry later.',
      );
    case 'token_expired':
      return AppException.unauthenticated('The subject token has expired.');
    case 'audience_invalid':
      return AppException.unauthenticated('The subject token was not issued for Gatehouse.');
    case 'token_invalid':
    case 'nonce_mismatch':
      return AppException.unauthenticated('The subject token failed verification.');
  }
}
