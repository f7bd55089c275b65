import { PassportStrategy } from '@nestjs/passport';
import { createHash, randomBytes } from 'node:crypto';
import passport from 'passport';
import OpenIDConnectStrategy from 'passport-openidconnect';
import type {
  DiscoveredProvider,
  VerifiedIdentity,
} from '#src/auth/oidc/oidc-providers.service.js';
import { SignInError } from '#src/auth/oidc/sign-in-error.js';

/**
 * passport-openidconnect 0.1.2, hardened (SECURITY.md, "passport-openidconnect needs a hardened
 * wrapper"). The library is kept for the protocol steps it does right (authorization request,
 * callback parsing, its own claim checks), and everything it gets wrong is replaced:
 *
 * - endpoints come from our discovery (exact issuer match), never configured by hand;
 * - nonce always on; PKCE S256 added here (challenge in the authorization request, verifier on the
 *   token request);
 * - the state store is ours: one database row per login attempt, bound to the browser, single use,
 *   ten-minute TTL; no express-session;
 * - the token request is ours: bounded by OIDC_TIMEOUT_MS, client_secret_basic, and any malformed
 *   answer becomes an error instead of an exception thrown in a callback;
 * - the ID token is verified with jose against the provider's JWKS in `validate()` (the library
 *   only decodes it), claims come only from the verified token;
 * - UserInfo is never fetched (`skipUserProfile`), so its `sub` cannot replace the token's;
 * - the callback URL is absolute (built from PUBLIC_URL), never from the Host header.
 *
 * Each request runs on its own `Object.create(strategy)` with its own state store and token
 * client (`runStrategy`), so concurrent sign-ins never share per-request state.
 */

export interface LoginAppState {
  providerId: string;
  returnTo: string;
  codeVerifier: string;
  bindingHash: string;
}

/** A verified login attempt, as read back (and consumed) by the state store at the callback. */
export interface VerifiedAttempt {
  providerId: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

/** Database operations behind the state store (implemented by the sign-in service). */
export interface AttemptStore {
  create(state: LoginAppState, nonce: string): Promise<string>;
  consume(
    state: string,
    providerId: string,
    bindingHash: string | null,
  ): Promise<VerifiedAttempt | null>;
}

/** The request object handed to the library: only what it needs, validated by us. */
export interface StrategyRequest {
  query: { code?: string; state?: string; error?: string };
}

/** Per-request data `validate()` reads (the verified attempt carrying the nonce). */
const attempts = new WeakMap<object, VerifiedAttempt>();

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

interface PkceAuthenticateOptions {
  state?: LoginAppState;
  codeChallenge?: string;
}

/** Adds PKCE (S256) to the authorization request. */
class PkceOpenIdConnectStrategy extends OpenIDConnectStrategy {
  override authorizationParams(options?: PkceAuthenticateOptions): object {
    if (!options?.codeChallenge) throw new Error('PKCE code challenge missing');
    return { code_challenge: options.codeChallenge, code_challenge_method: 'S256' };
  }
}

/** Strategies live in a private passport instance: never the global one, never looked up by name. */
const oidcPassport = new passport.Passport();

export type IdTokenVerifier = (idToken: string, nonce: string) => Promise<VerifiedIdentity>;

/**
 * The strategy through @nestjs/passport with `callbackArity: true`: `validate` has fixed parameters
 * (no defaults, no rest), so the library calls it with the request and the raw ID token
 * (passReqToCallback, arity 6: req, issuer, profile, context, idToken, done).
 */
export class HardenedOidcStrategy extends PassportStrategy(
  PkceOpenIdConnectStrategy,
  'oidc',
  true,
) {
  private verifier: IdTokenVerifier | null = null;

  constructor(
    readonly provider: DiscoveredProvider,
    callbackURL: string,
    verifier: IdTokenVerifier,
  ) {
    super({
      issuer: provider.issuer,
      authorizationURL: provider.authorizationEndpoint,
      tokenURL: provider.tokenEndpoint,
      userInfoURL: '',
      clientID: provider.config.clientId,
      clientSecret: provider.config.clientSecret,
      callbackURL,
      scope: provider.config.scopes.filter((s) => s !== 'openid'),
      // The library only tests truthiness: a fresh nonce for every authorization request.
      nonce: 'true',
      skipUserProfile: true,
      passReqToCallback: true,
    });
    this.verifier = verifier;
  }

  getPassportInstance(): typeof oidcPassport {
    return oidcPassport;
  }

  /** The only place claims come from: the ID token verified with jose, nonce included. */
  async validate(
    req: StrategyRequest,
    _issuer: string,
    _profile: unknown,
    _context: unknown,
    idToken: unknown,
  ): Promise<VerifiedIdentity> {
    const attempt = attempts.get(req);
    if (!attempt || !this.verifier) throw new SignInError('state_invalid', 'no verified attempt');
    if (typeof idToken !== 'string') throw new SignInError('idp_bad_response', 'no ID token');
    return this.verifier(idToken, attempt.nonce);
  }
}

export type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; identity: VerifiedIdentity; attempt: VerifiedAttempt }
  | { kind: 'fail'; message: string | null }
  | { kind: 'error'; error: unknown };

type Callback = (...args: unknown[]) => void;

/** The library's `_oauth2` replaced per request: a bounded token request with the PKCE verifier. */
class BoundedTokenClient {
  readonly _authorizeUrl: string;
  readonly _accessTokenUrl: string;
  readonly _clientId: string;

  constructor(
    private readonly provider: DiscoveredProvider,
    private readonly timeoutMs: number,
    private readonly codeVerifier: () => string | null,
    private readonly onCrash: (err: unknown) => void,
  ) {
    this._authorizeUrl = provider.authorizationEndpoint;
    this._accessTokenUrl = provider.tokenEndpoint;
    this._clientId = provider.config.clientId;
  }

  useAuthorizationHeaderforGET(): void {}

  get(_url: string, _token: string, cb: Callback): void {
    cb(new SignInError('idp_bad_response', 'UserInfo is never used'));
  }

  getOAuthAccessToken(code: unknown, params: { redirect_uri?: string }, cb: Callback): void {
    this.exchange(code, params).then(
      (body) => this.call(cb, null, body['access_token'], body['refresh_token'], body),
      (err: unknown) => this.call(cb, err),
    );
  }

  /** Whatever the library does with the answer, an exception must not escape into the event loop. */
  private call(cb: Callback, ...args: unknown[]): void {
    try {
      cb(...args);
    } catch (err) {
      this.onCrash(err);
    }
  }

  private async exchange(
    code: unknown,
    params: { redirect_uri?: string },
  ): Promise<Record<string, unknown>> {
    const verifier = this.codeVerifier();
    if (typeof code !== 'string' || !verifier || !params.redirect_uri)
      throw new SignInError('state_invalid', 'no verified attempt for the token request');
    const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = Buffer.from(
      `${form(this.provider.config.clientId)}:${form(this.provider.config.clientSecret)}`,
    ).toString('base64');
    let text: string;
    let status: number;
    try {
      const res = await fetch(this.provider.tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: params.redirect_uri,
          code_verifier: verifier,
        }),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new SignInError(
        'idp_unavailable',
        `token request failed: ${(err as Error).name}: ${(err as Error).message}`,
      );
    }
    if (status >= 500) throw new SignInError('idp_unavailable', `token endpoint said ${status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SignInError('idp_bad_response', `token response (${status}) is not JSON`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new SignInError('idp_bad_response', 'token response is not a JSON object');
    const obj = body as Record<string, unknown>;
    if (status >= 400 || obj['error'] !== undefined)
      throw new SignInError('token_refused', `token endpoint refused (${status})`);
    const idToken = obj['id_token'];
    if (typeof idToken !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(idToken))
      throw new SignInError('idp_bad_response', 'token response has no well-formed id_token');
    return obj;
  }
}

/** The state store the library calls, one per request, backed by the database. */
class AttemptStateStore {
  verified: VerifiedAttempt | null = null;

  constructor(
    private readonly ops: AttemptStore,
    private readonly providerId: string,
    private readonly bindingHash: string | null,
    private readonly onCrash: (err: unknown) => void,
  ) {}

  store(
    _req: StrategyRequest,
    ctx: { nonce?: string },
    appState: LoginAppState | undefined,
    _meta: unknown,
    cb: Callback,
  ): void {
    if (!ctx.nonce || !appState) {
      cb(new Error('nonce and login state are required'));
      return;
    }
    this.ops.create(appState, ctx.nonce).then(
      (handle) => this.call(cb, null, handle),
      (err: unknown) => this.call(cb, err),
    );
  }

  verify(req: StrategyRequest, handle: unknown, cb: Callback): void {
    if (typeof handle !== 'string' || handle.length === 0 || handle.length > 256) {
      cb(null, false, { message: 'Invalid authorization request state.' });
      return;
    }
    this.ops.consume(handle, this.providerId, this.bindingHash).then(
      (attempt) => {
        if (!attempt) {
          this.call(cb, null, false, { message: 'Unknown or expired authorization state.' });
          return;
        }
        this.verified = attempt;
        attempts.set(req, attempt);
        this.call(cb, null, { nonce: attempt.nonce }, { returnTo: attempt.returnTo });
      },
      (err: unknown) => this.call(cb, err),
    );
  }

  private call(cb: Callback, ...args: unknown[]): void {
    try {
      cb(...args);
    } catch (err) {
      this.onCrash(err);
    }
  }
}

interface StrategyActions {
  _oauth2: unknown;
  _stateStore: unknown;
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  redirect(url: string, status?: number): void;
  pass(): void;
  error(err: unknown): void;
  authenticate(req: StrategyRequest, options: PkceAuthenticateOptions): void;
}

/**
 * Runs the strategy for one request, like passport.authenticate does (a fresh object per request
 * carrying the success/fail/redirect/error actions), and settles exactly once, within a deadline.
 */
export function runStrategy(
  strategy: HardenedOidcStrategy,
  req: StrategyRequest,
  options: PkceAuthenticateOptions,
  ctx: {
    store: AttemptStore;
    providerId: string;
    bindingHash: string | null;
    timeoutMs: number;
  },
): Promise<StrategyOutcome> {
  return new Promise<StrategyOutcome>((resolve) => {
    let settled = false;
    const deadline = setTimeout(
      () => done({ kind: 'error', error: new SignInError('idp_unavailable', 'deadline') }),
      ctx.timeoutMs * 3 + 1000,
    );
    deadline.unref();
    const done = (outcome: StrategyOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(outcome);
    };
    const crash = (error: unknown) => done({ kind: 'error', error });
    const stateStore = new AttemptStateStore(ctx.store, ctx.providerId, ctx.bindingHash, crash);
    const run = Object.create(strategy) as StrategyActions;
    run._stateStore = stateStore;
    run._oauth2 = new BoundedTokenClient(
      strategy.provider,
      ctx.timeoutMs,
      () => stateStore.verified?.codeVerifier ?? null,
      crash,
    );
    run.success = (user) => {
      const attempt = stateStore.verified;
      if (!attempt) return crash(new SignInError('state_invalid', 'success without attempt'));
      done({ kind: 'success', identity: user as VerifiedIdentity, attempt });
    };
    run.fail = (challenge) => {
      const m = (challenge as { message?: unknown } | undefined)?.message;
      done({ kind: 'fail', message: typeof m === 'string' ? m : null });
    };
    run.redirect = (url) => done({ kind: 'redirect', url });
    run.pass = () => crash(new Error('strategy passed'));
    run.error = crash;
    try {
      run.authenticate(req, options);
    } catch (err) {
      crash(err);
    }
  });
}
