import { Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '#src/config/config.js';
import { generateToken, isWellFormedToken, sha256Hex } from '#src/crypto/tokens.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import type { SessionContext } from '#src/auth/sessions/sessions.service.js';
import {
  HardenedOidcStrategy,
  pkcePair,
  runStrategy,
  type AttemptStore,
  type LoginAppState,
  type StrategyRequest,
  type VerifiedAttempt,
} from '#src/auth/oidc/hardened-strategy.js';
import { OidcLinkingService, type SignInOutcome } from '#src/auth/oidc/oidc-linking.service.js';
import { OidcLoginAttempt } from '#src/auth/oidc/oidc-login-attempt.entity.js';
import {
  OidcProvidersService,
  type DiscoveredProvider,
} from '#src/auth/oidc/oidc-providers.service.js';
import { OidcSignInRepository } from '#src/auth/oidc/oidc-sign-in.repository.js';
import { parseReturnTo } from '#src/auth/oidc/return-to.js';
import {
  failureFromMessage,
  plainCode,
  SignInError,
  toSignInError,
} from '#src/auth/oidc/sign-in-error.js';

export const LOGIN_ATTEMPT_TTL_MS = 10 * 60_000;
const BINDING_PREFIX = 'gthb_';

export interface ProviderResponse {
  id: string;
  name: string;
  loginUrl: string;
}

export interface CallbackQuery {
  code?: unknown;
  state?: unknown;
  error?: unknown;
  iss?: unknown;
}

function queryString(v: unknown, max = 4096): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined;
}

/**
 * Browser sign-in through OpenID Connect: starts the authorization code flow and completes it,
 * through the hardened passport-openidconnect strategy (one instance per provider, configured
 * from our discovery), then hands the verified identity to the linking rules.
 */
@Injectable()
export class OidcSignInService implements AttemptStore {
  private readonly logger = new Logger('OIDC');
  private readonly strategies = new Map<string, HardenedOidcStrategy>();

  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly providers: OidcProvidersService,
    private readonly repo: OidcSignInRepository,
    private readonly linking: OidcLinkingService,
  ) {}

  list(): { items: ProviderResponse[]; nextCursor: null } {
    return {
      items: this.providers.list().map((p) => ({
        id: p.id,
        name: p.name,
        loginUrl: this.loginUrl(p.id),
      })),
      nextCursor: null,
    };
  }

  loginUrl(providerId: string, returnTo?: string): string {
    const base = `${this.config.publicUrl}/api/v1/auth/oidc/${encodeURIComponent(providerId)}/login`;
    return returnTo ? `${base}?returnTo=${encodeURIComponent(returnTo)}` : base;
  }

  callbackUrl(providerId: string): string {
    return `${this.config.publicUrl}/api/v1/auth/oidc/${encodeURIComponent(providerId)}/callback`;
  }

  /** A browser-binding value: the one the browser already holds (several tabs share it) or a new one. */
  binding(existing: unknown): string {
    return typeof existing === 'string' && isWellFormedToken(existing, BINDING_PREFIX)
      ? existing
      : generateToken(BINDING_PREFIX);
  }

  private async strategyFor(providerId: string): Promise<HardenedOidcStrategy> {
    let discovered: DiscoveredProvider;
    try {
      discovered = await this.providers.discover(providerId);
    } catch (err) {
      throw toSignInError(err);
    }
    const cached = this.strategies.get(providerId);
    if (cached && cached.provider === discovered) return cached;
    const strategy = new HardenedOidcStrategy(
      discovered,
      this.callbackUrl(providerId),
      (idToken, nonce) => this.providers.verifyIdToken(providerId, idToken, { nonce }),
    );
    this.strategies.set(providerId, strategy);
    return strategy;
  }

  /** Starts sign-in: stores the attempt (state, nonce, PKCE verifier) and returns the IdP URL. */
  async beginLogin(providerId: string, rawReturnTo: unknown, binding: string): Promise<string> {
    if (!this.providers.find(providerId)) throw new SignInError('unknown_provider');
    const returnTo = parseReturnTo(rawReturnTo);
    if (returnTo === null) throw new SignInError('bad_return_to');
    const strategy = await this.strategyFor(providerId);
    const { verifier, challenge } = pkcePair();
    const state: LoginAppState = {
      providerId,
      returnTo,
      codeVerifier: verifier,
      bindingHash: sha256Hex(binding),
    };
    const outcome = await runStrategy(
      strategy,
      { query: {} },
      { state, codeChallenge: challenge },
      this.runContext(providerId, null),
    );
    if (outcome.kind === 'redirect') return outcome.url;
    throw outcome.kind === 'error' ? toSignInError(outcome.error) : failureFromMessage(null);
  }

  /** Completes sign-in at the callback: every failure is a SignInError, nothing is half done. */
  async completeLogin(
    providerId: string,
    query: CallbackQuery,
    binding: string | undefined,
    ctx: SessionContext,
    req: FastifyRequest,
    previousSession: string | undefined,
  ): Promise<SignInOutcome> {
    const provider = this.providers.find(providerId);
    if (!provider) throw new SignInError('unknown_provider');
    const state = queryString(query.state, 256);
    // RFC 9207: a provider that names itself in the response must name the expected issuer.
    if (query.iss !== undefined && query.iss !== provider.issuer)
      throw new SignInError('token_invalid', 'the response names another issuer');
    if (query.error !== undefined) {
      // The provider stopped the sign-in: the attempt is spent; its description is never shown.
      if (state) await this.consume(state, providerId, binding ? sha256Hex(binding) : null);
      throw new SignInError('idp_error', 'provider returned an error', plainCode(query.error));
    }
    const code = queryString(query.code);
    if (!code || !state) throw new SignInError('bad_callback');
    const request: StrategyRequest = { query: { code, state } };
    const strategy = await this.strategyFor(providerId);
    const outcome = await runStrategy(
      strategy,
      request,
      {},
      this.runContext(providerId, binding ? sha256Hex(binding) : null),
    );
    switch (outcome.kind) {
      case 'success': {
        const out = await this.linking.signIn(
          providerId,
          outcome.identity,
          ctx,
          outcome.attempt.returnTo,
        );
        if (out.kind === 'signed_in')
          await this.linking.retirePreviousSession(req, previousSession);
        return out;
      }
      case 'fail':
        throw failureFromMessage(outcome.message);
      case 'error':
        throw toSignInError(outcome.error);
      case 'redirect':
        throw new SignInError('bad_callback', 'strategy tried to redirect at the callback');
    }
  }

  private runContext(providerId: string, bindingHash: string | null) {
    return { store: this, providerId, bindingHash, timeoutMs: this.config.oidcTimeoutMs };
  }

  /** AttemptStore: one row per login attempt; the `state` handed to the IdP is a random token. */
  async create(state: LoginAppState, nonce: string): Promise<string> {
    const handle = randomBytes(32).toString('base64url');
    const now = new Date();
    const row = new OidcLoginAttempt();
    row.id = newId();
    row.stateHash = sha256Hex(handle);
    row.bindingHash = state.bindingHash;
    row.providerId = state.providerId;
    row.nonce = nonce;
    row.codeVerifier = state.codeVerifier;
    row.returnTo = state.returnTo;
    row.createdAt = now;
    row.expiresAt = new Date(now.getTime() + LOGIN_ATTEMPT_TTL_MS);
    await this.db.transaction(async (tx) => {
      await this.repo.purgeExpired(tx, now);
      await this.repo.insertAttempt(tx, row);
    });
    return handle;
  }

  /**
   * AttemptStore: reads and deletes the attempt in one transaction (single use: a replayed or
   * concurrent callback finds nothing), and checks it belongs to this provider and this browser.
   */
  async consume(
    handle: string,
    providerId: string,
    bindingHash: string | null,
  ): Promise<VerifiedAttempt | null> {
    const row = await this.db.transaction(async (tx) => {
      const found = await this.repo.findAttempt(sha256Hex(handle), tx);
      if (!found) return null;
      if (!(await this.repo.consumeAttempt(tx, found.id))) return null;
      return found;
    });
    if (!row) return null;
    if (row.expiresAt.getTime() <= Date.now()) return null;
    if (row.providerId !== providerId) return null;
    if (bindingHash === null || row.bindingHash !== bindingHash) {
      this.logger.warn({ msg: 'OIDC callback from another browser refused', providerId });
      return null;
    }
    return {
      providerId: row.providerId,
      nonce: row.nonce,
      codeVerifier: row.codeVerifier,
      returnTo: row.returnTo,
    };
  }
}
