import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AppConfig, type OidcProviderConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';

export interface DiscoveredProvider {
  config: OidcProviderConfig;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string | null;
  codeChallengeMethods: string[];
  jwks: ReturnType<typeof createRemoteJWKSet>;
  discoveredAt: number;
}

/** Claims taken only from a verified ID token. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  /** True only when the token says the JSON boolean `true`. */
  emailVerified: boolean;
  name: string | null;
  claims: JWTPayload;
}

export class OidcError extends Error {
  constructor(
    readonly reason:
      | 'unknown_provider'
      | 'discovery_failed'
      | 'issuer_mismatch'
      | 'idp_unavailable'
      | 'token_invalid'
      | 'token_expired'
      | 'nonce_mismatch'
      | 'audience_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}

// Asymmetric algorithms only: `none` and HS* (a shared secret the client also holds) are refused.
export const ID_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const CLOCK_SKEW_SECONDS = 60;
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

function endpoint(doc: Record<string, unknown>, key: string, required: boolean): string | null {
  const v = doc[key];
  if (typeof v === 'string' && /^https?:\/\//.test(v)) return v;
  if (required) throw new OidcError('discovery_failed', `discovery document lacks a valid ${key}`);
  return null;
}

/**
 * The configured OpenID Connect providers: our own discovery (the discovered issuer must equal the
 * configured one exactly), their JWKS, and ID-token verification with jose. Used by browser sign-in
 * and by token exchange.
 */
@Injectable()
export class OidcProvidersService {
  private readonly logger = new Logger('OIDC');
  private readonly discovered = new Map<string, Promise<DiscoveredProvider>>();

  constructor(private readonly config: AppConfig) {}

  list(): OidcProviderConfig[] {
    return this.config.oidcProviders;
  }

  find(id: string): OidcProviderConfig | undefined {
    return this.config.oidcProviders.find((p) => p.id === id);
  }

  require(id: string): OidcProviderConfig {
    const p = this.find(id);
    if (!p) throw AppException.notFound('Identity provider');
    return p;
  }

  /** Discovery, cached for an hour; a failure is not cached, so a provider that comes back works again. */
  async discover(id: string): Promise<DiscoveredProvider> {
    const cfg = this.find(id);
    if (!cfg) throw new OidcError('unknown_provider', `unknown provider ${id}`);
    const cached = this.discovered.get(id);
    if (cached) {
      const d = await cached.catch(() => null);
      if (d && Date.now() - d.discoveredAt < DISCOVERY_TTL_MS) return d;
    }
    const pending = this.fetchDiscovery(cfg);
    this.discovered.set(id, pending);
    pending.catch(() => this.discovered.delete(id));
    return pending;
  }

  private async fetchDiscovery(cfg: OidcProviderConfig): Promise<DiscoveredProvider> {
    const url = `${cfg.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let doc: Record<string, unknown>;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.config.oidcTimeoutMs),
        redirect: 'error',
        headers: { accept: 'application/json' },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body: unknown = await res.json();
      if (!body || typeof body !== 'object') throw new Error('not a JSON object');
      doc = body as Record<string, unknown>;
    } catch (err) {
      this.logger.warn({
        msg: 'OIDC discovery failed',
        provider: cfg.id,
        error: (err as Error).message,
      });
      throw new OidcError('idp_unavailable', `discovery of ${cfg.id} failed`);
    }
    if (doc['issuer'] !== cfg.issuer) {
      throw new OidcError(
        'issuer_mismatch',
        `provider ${cfg.id} says its issuer is not the configured one`,
      );
    }
    const jwksUri = endpoint(doc, 'jwks_uri', true) as string;
    const methods = Array.isArray(doc['code_challenge_methods_supported'])
      ? (doc['code_challenge_methods_supported'] as unknown[]).filter(
          (m): m is string => typeof m === 'string',
        )
      : [];
    return {
      config: cfg,
      issuer: cfg.issuer,
      authorizationEndpoint: endpoint(doc, 'authorization_endpoint', true) as string,
      tokenEndpoint: endpoint(doc, 'token_endpoint', true) as string,
      jwksUri,
      userinfoEndpoint: endpoint(doc, 'userinfo_endpoint', false),
      codeChallengeMethods: methods,
      jwks: createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: this.config.oidcTimeoutMs,
        cooldownDuration: 30_000,
      }),
      discoveredAt: Date.now(),
    };
  }

  /**
   * Verifies an ID token (or a provider-issued JWT for token exchange): signature against the JWKS
   * with an asymmetric algorithm, exact issuer, our client id as the only audience, expiry and
   * issued-at within a small skew, and the nonce when one is expected.
   */
  async verifyIdToken(
    providerId: string,
    token: string,
    expected: { nonce?: string } = {},
  ): Promise<VerifiedIdentity> {
    const p = await this.discover(providerId);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, p.jwks, {
        issuer: p.issuer,
        audience: p.config.clientId,
        algorithms: ID_TOKEN_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new OidcError('token_expired', 'the ID token has expired');
      if (err instanceof joseErrors.JWKSTimeout)
        throw new OidcError('idp_unavailable', 'the provider keys could not be fetched in time');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud')
        throw new OidcError('audience_invalid', 'the ID token is not for us');
      throw new OidcError(
        'token_invalid',
        `the ID token failed verification (${(err as Error).name})`,
      );
    }
    const aud = payload.aud;
    if (Array.isArray(aud) && aud.some((a) => a !== p.config.clientId)) {
      throw new OidcError('audience_invalid', 'the ID token names other audiences than us');
    }
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
      throw new OidcError('token_invalid', 'the ID token was issued in the future');
    }
    if (expected.nonce !== undefined && payload['nonce'] !== expected.nonce) {
      throw new OidcError('nonce_mismatch', 'the ID token nonce does not match this sign-in');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255)
      throw new OidcError('token_invalid', 'the ID token has no usable subject');
    const email = typeof payload['email'] === 'string' ? payload['email'] : null;
    return {
      issuer: p.issuer,
      subject: sub,
      email,
      emailVerified: payload['email_verified'] === true,
      name: typeof payload['name'] === 'string' ? payload['name'] : null,
      claims: payload,
    };
  }
}
