import { Injectable } from '@nestjs/common';
import { decodeJwt, errors as joseErrors } from 'jose';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { AuditService } from '#src/audit/audit.service.js';
import {
  OidcError,
  OidcProvidersService,
  type VerifiedIdentity,
} from '#src/auth/oidc/oidc-providers.service.js';
import { LinkedIdentitiesService } from '#src/auth/oidc/linked-identities.service.js';
import { Database } from '#src/database/database.service.js';
import type { User } from '#src/users/user.entity.js';
import { UsersService } from '#src/users/users.service.js';
import { FailureAudit } from '#src/credentials/failure-audit.js';
import { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';
import { SigningKeysService } from '#src/credentials/tokens/signing-keys.service.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const CLOCK_SKEW_SECONDS = 60;

export interface ExchangedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  issued_token_type: 'urn:ietf:params:oauth:token-type:access_token';
}

/** Why a subject token was refused (each caller answers in its own error format). */
export class TokenExchangeError extends Error {
  constructor(
    readonly reason:
      | 'unknown_provider'
      | 'unknown_issuer'
      | 'unsupported_token_type'
      | 'unavailable'
      | 'token_expired'
      | 'audience_invalid'
      | 'token_invalid'
      | 'not_linked'
      | 'user_inactive',
    message: string,
  ) {
    super(message);
    this.name = 'TokenExchangeError';
  }
}

/** Where the subject token came from: a configured provider (with the link), or Gatehouse itself. */
export interface ExchangeSubject {
  user: User;
  /** The OIDC_PROVIDERS id, or `gatehouse` for one of our own tokens. */
  provider: string;
  identityId: string | null;
}

/**
 * Token exchange (RFC 8693): a subject token is turned into the Gatehouse user it stands for.
 * Accepted subject tokens: an ID token (or JWT) of a configured OIDC provider, whose (issuer,
 * subject) is linked to a user (never links: an unknown identity is refused), or one of
 * Gatehouse's own tokens (an ID token issued to the requesting client, or an access token the API
 * accepts). Used by the token endpoint's grant (the OpenID Provider) and by the older
 * `POST /auth/token-exchange`, which mints the token itself.
 */
@Injectable()
export class TokenExchangeService {
  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly oidc: OidcProvidersService,
    private readonly identities: LinkedIdentitiesService,
    private readonly users: UsersService,
    private readonly tokens: AccessTokensService,
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
    private readonly failures: FailureAudit,
  ) {}

  /** `POST /auth/token-exchange`: a provider's token for a Gatehouse access token (problem+json errors). */
  async exchange(subjectToken: string, providerId: string): Promise<ExchangedToken> {
    let subject: ExchangeSubject;
    try {
      subject = await this.fromProvider(providerId, subjectToken);
    } catch (err) {
      throw toAppException(err);
    }
    const minted = await this.tokens.mint({
      userId: subject.user.id,
      grant: null,
      extra: { idp: providerId },
    });
    await this.recordExchange(subject, minted.jti, null);
    return {
      access_token: minted.accessToken,
      token_type: 'Bearer',
      expires_in: minted.expiresIn,
      issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
    };
  }

  /**
   * The user a subject token of the RFC 8693 grant stands for. `subjectTokenType` is checked
   * against the token: ID tokens (and JWTs) of a configured provider or of ours, or our access
   * tokens. `clientId` is the requesting client (our ID tokens must have been issued to it).
   */
  async resolveSubject(
    subjectToken: string,
    subjectTokenType: string,
    clientId: string,
  ): Promise<ExchangeSubject> {
    if (subjectTokenType === TOKEN_TYPE_ACCESS_TOKEN) return this.fromOurAccessToken(subjectToken);
    if (subjectTokenType !== TOKEN_TYPE_ID_TOKEN && subjectTokenType !== TOKEN_TYPE_JWT)
      throw new TokenExchangeError('unsupported_token_type', 'unsupported subject_token_type');
    let iss: string | undefined;
    try {
      iss = decodeJwt(subjectToken).iss;
    } catch {
      throw new TokenExchangeError('token_invalid', 'the subject token is not a JWT');
    }
    if (iss === this.config.publicUrl) return this.fromOurIdToken(subjectToken, clientId);
    const provider = this.oidc.list().find((p) => p.issuer === iss);
    if (!provider)
      throw new TokenExchangeError(
        'unknown_issuer',
        'the subject token was not issued by a trusted provider',
      );
    return this.fromProvider(provider.id, subjectToken);
  }

  /** Audits an exchange (under the user the token is for) and records the use of the link. */
  async recordExchange(
    subject: ExchangeSubject,
    jti: string,
    clientId: string | null,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.audit.record(tx, {
        actorId: subject.user.id,
        action: 'access_token.exchange',
        targetType: 'user',
        targetId: subject.user.id,
        changes: {
          provider: subject.provider,
          identityId: subject.identityId,
          jti,
          ...(clientId ? { clientId } : {}),
        },
      });
    });
    if (subject.identityId) await this.identities.touch(subject.identityId, new Date());
  }

  private async fromProvider(providerId: string, subjectToken: string): Promise<ExchangeSubject> {
    if (!this.oidc.find(providerId))
      throw new TokenExchangeError('unknown_provider', 'is not a configured identity provider');
    let identity: VerifiedIdentity;
    try {
      identity = await this.oidc.verifyIdToken(providerId, subjectToken);
    } catch (err) {
      throw fromOidcError(err);
    }
    const link = await this.identities.findByIssuerSubject(identity.issuer, identity.subject);
    if (!link) {
      throw new TokenExchangeError(
        'not_linked',
        'No Gatehouse user is linked to this identity; sign in through the browser once to link it.',
      );
    }
    const user = await this.activeUser(link.userId, link.id);
    return { user, provider: providerId, identityId: link.id };
  }

  /** One of our ID tokens (the OpenID Provider's), issued to the client that exchanges it. */
  private async fromOurIdToken(token: string, clientId: string): Promise<ExchangeSubject> {
    let sub: string | undefined;
    try {
      const { payload, protectedHeader } = await this.keys.verifyOurs(token, {
        issuer: this.config.publicUrl,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'aud'],
      });
      // An access token is not an ID token (its own type says which it is).
      if (protectedHeader.typ === 'at+jwt')
        throw new TokenExchangeError('token_invalid', 'the subject token is not an ID token');
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!aud.includes(clientId))
        throw new TokenExchangeError(
          'audience_invalid',
          'the subject token was not issued to this client',
        );
      sub = payload.sub;
    } catch (err) {
      if (err instanceof TokenExchangeError) throw err;
      if (err instanceof joseErrors.JWTExpired)
        throw new TokenExchangeError('token_expired', 'The subject token has expired.');
      throw new TokenExchangeError('token_invalid', 'The subject token failed verification.');
    }
    if (!sub) throw new TokenExchangeError('token_invalid', 'the subject token has no subject');
    return { user: await this.activeUser(sub, null), provider: 'gatehouse', identityId: null };
  }

  /** One of our access tokens: valid for the API now (not revoked, owner active, audience ours). */
  private async fromOurAccessToken(token: string): Promise<ExchangeSubject> {
    const p = await this.tokens.principalOf(token);
    if (!p)
      throw new TokenExchangeError(
        'token_invalid',
        'the subject token is not a live Gatehouse access token',
      );
    return { user: await this.activeUser(p.userId, null), provider: 'gatehouse', identityId: null };
  }

  private async activeUser(userId: string, credentialId: string | null): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user || user.status !== 'active') {
      if (user && credentialId)
        await this.failures.record({
          action: 'token_exchange.refused',
          userId: user.id,
          credentialId,
          reason: `owner_${user.status}`,
        });
      throw new TokenExchangeError('user_inactive', 'The linked user cannot sign in.');
    }
    return user;
  }
}

function fromOidcError(err: unknown): unknown {
  if (!(err instanceof OidcError)) return err;
  switch (err.reason) {
    case 'unknown_provider':
      return new TokenExchangeError('unknown_provider', 'is not a configured identity provider');
    case 'discovery_failed':
    case 'issuer_mismatch':
    case 'idp_unavailable':
      return new TokenExchangeError(
        'unavailable',
        'The identity provider could not be reached or is misconfigured; retry later.',
      );
    case 'token_expired':
      return new TokenExchangeError('token_expired', 'The subject token has expired.');
    case 'audience_invalid':
      return new TokenExchangeError(
        'audience_invalid',
        'The subject token was not issued for Gatehouse.',
      );
    case 'token_invalid':
    case 'nonce_mismatch':
      return new TokenExchangeError('token_invalid', 'The subject token failed verification.');
  }
}

/** The older JSON route's answers (problem+json), unchanged. */
function toAppException(err: unknown): unknown {
  if (!(err instanceof TokenExchangeError)) return err;
  switch (err.reason) {
    case 'unknown_provider':
      return AppException.invalid('provider', err.message);
    case 'unavailable':
      return new AppException('unavailable', err.message);
    case 'unknown_issuer':
    case 'unsupported_token_type':
    case 'token_expired':
    case 'audience_invalid':
    case 'token_invalid':
    case 'not_linked':
    case 'user_inactive':
      return AppException.unauthenticated(err.message);
  }
}
