import { handOver } from '#src/provider/hand-over.js';
import { finished } from 'node:stream/promises';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestPath, sentAsJson } from '#src/common/http/request.js';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, {
  errors,
  interactionPolicy,
  type Account,
  type AdapterPayload,
  type Configuration,
  type KoaContextWithOIDC,
  type TokenInstance,
} from 'oidc-provider';
import { AppConfig } from '#src/config/config.js';
import { Database } from '#src/database/database.service.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import { SESSION_COOKIE } from '#src/kernel/auth.guard.js';
import type { Principal } from '#src/kernel/principal.js';
import { Html, html, sendPage } from '#src/auth/pages/html.js';
import { clearSessionCookieRaw } from '#src/auth/session-cookie.js';
import { UsersService } from '#src/users/users.service.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { REFRESH_TOKEN_PREFIX } from '#src/credentials/grants/grants.service.js';
import { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';
import {
  TOKEN_EXCHANGE_GRANT,
  TOKEN_TYPE_ACCESS_TOKEN,
  TokenExchangeError,
  TokenExchangeService,
  type ExchangeSubject,
} from '#src/credentials/token-exchange/token-exchange.service.js';
import { SigningKeysService, SIGNING_ALG } from '#src/credentials/tokens/signing-keys.service.js';
import { ClientsService, hashClientSecret } from '#src/provider/clients/clients.service.js';
import type { OAuthClient } from '#src/provider/entities/oauth-client.entity.js';
import { OidcPayloadsRepository } from '#src/provider/oidc-payloads.repository.js';
import { adapterClass } from '#src/provider/oidc-adapter.js';

export const TOKEN_PATH = '/api/v1/oauth/token';
export const INTERACTION_PATH = '/oidc/interaction';
/** RFC 8414 metadata: answered with the OpenID discovery document. */
const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const PROJECTS_SCOPE = 'gatehouse:projects';
const INTROSPECTION_PATH = '/oidc/token/introspection';
const REVOCATION_PATH = '/oidc/token/revocation';
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const END_SESSION_CONFIRM_PATH = '/oidc/session/end/confirm';
/** Grants the provider answers at the shared token endpoint (Gatehouse's own refresh tokens stay). */
const PROVIDER_GRANTS = new Set([
  'authorization_code',
  'client_credentials',
  'refresh_token',
  TOKEN_EXCHANGE_GRANT,
]);
/** RFC 8693 request parameters (besides grant_type and client authentication). */
const TOKEN_EXCHANGE_PARAMS = [
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
  'audience',
  'resource',
  'scope',
];
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\//;

function parseBasic(header: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, i));
  } catch {
    return undefined;
  }
}

/** The provider's client metadata for a registry entry (the stored secret hash stands in for the secret). */
function clientMetadata(c: OAuthClient): AdapterPayload {
  const native = c.redirectUris.some((u) => LOOPBACK_HTTP.test(u) || !/^https?:/.test(u));
  return {
    client_id: c.clientId,
    client_name: c.name,
    ...(c.secretHash ? { client_secret: c.secretHash } : {}),
    application_type: native ? 'native' : 'web',
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    // Every client may call the exchange grant as far as the library is concerned; the grant itself
    // answers unauthorized_client (RFC 6749 5.2) for a client whose registration does not list it.
    grant_types: [...new Set([...c.grantTypes, TOKEN_EXCHANGE_GRANT])],
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    ...(c.tokenEndpointAuthMethod === 'private_key_jwt'
      ? { token_endpoint_auth_signing_alg: undefined }
      : {}),
    scope: c.scopes.join(' '),
    id_token_signed_response_alg: SIGNING_ALG,
    ...(c.jwks ? { jwks: JSON.parse(c.jwks) as unknown } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    allowed_origins: c.allowedOrigins,
    first_party: c.firstParty,
    // auth_time in every ID token (the time of the Gatehouse sign-in the session stands on).
    require_auth_time: true,
  };
}

/**
 * Gatehouse as an OpenID Provider: npm oidc-provider (OpenID-certified), configured here and
 * mounted in front of Nest's router for its own paths. It is rebuilt when the signing key set
 * changes (rotation), so it always signs with the active key and publishes the same set as
 * /.well-known/jwks.json.
 */
@Injectable()
export class OidcProviderService {
  private readonly logger = new Logger('OidcProvider');
  private built: {
    kids: string;
    provider: Provider;
    handler: (req: IncomingMessage, res: ServerResponse) => void;
  } | null = null;
  private building: Promise<NonNullable<OidcProviderService['built']>> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly payloads: OidcPayloadsRepository,
    private readonly db: Database,
    private readonly keys: SigningKeysService,
    private readonly tokens: AccessTokensService,
    private readonly users: UsersService,
    private readonly clients: ClientsService,
    private readonly registry: CredentialRegistry,
    private readonly exchange: TokenExchangeService,
    private readonly catalogue: PermissionCatalogue,
  ) {}

  /**
   * Server permissions as OAuth scopes: a token for the API that lists some is narrowed to them
   * (a client may ask only for those registered in its `scopes`).
   */
  private permissionScopes(): string[] {
    return this.catalogue
      .list()
      .filter((p) => p.scope === 'server')
      .map((p) => p.name);
  }

  /** The provider for the current key set. */
  async provider(): Promise<Provider> {
    return (await this.current()).provider;
  }

  private async current(): Promise<NonNullable<OidcProviderService['built']>> {
    const published = await this.keys.jwks();
    const active = await this.keys.activeKey();
    const kids = [active.kid, ...published.keys.map((k) => k.kid)].join(',');
    if (this.built?.kids === kids) return this.built;
    this.building ??= this.build(kids).finally(() => (this.building = null));
    const built = await this.building;
    this.built = built;
    return built;
  }

  private async build(kids: string): Promise<NonNullable<OidcProviderService['built']>> {
    const jwks = await this.keys.signingJwks();
    const provider = new Provider(this.config.publicUrl, this.configuration(jwks));
    provider.proxy = this.config.trustProxy !== false;
    // Secrets are stored hashed: the registry hands the provider the hash as `client_secret`, and
    // the comparison hashes what the client presented (constant time).
    provider.Client.prototype.compareClientSecret = function (
      this: { clientSecret?: string },
      actual: string,
    ): boolean {
      const expected = Buffer.from(this.clientSecret ?? '', 'utf8');
      const got = Buffer.from(hashClientSecret(String(actual)), 'utf8');
      return expected.length === got.length && timingSafeEqual(expected, got);
    };
    this.storeJwtAccessTokens(provider);
    provider.registerGrantType(
      TOKEN_EXCHANGE_GRANT,
      (ctx: KoaContextWithOIDC) => this.tokenExchangeGrant(ctx),
      TOKEN_EXCHANGE_PARAMS,
    );
    provider.on('server_error', (_ctx: unknown, err: unknown) => {
      this.logger.error({ msg: 'provider error', error: (err as Error)?.message });
    });
    this.logger.log({ msg: 'OpenID Provider ready', kids });
    return { kids, provider, handler: provider.callback() };
  }

  /**
   * The library does not store JWT access tokens; Gatehouse does (by jti), so introspection and
   * revocation work for them and a revoked one is denylisted for the API at once.
   */
  private storeJwtAccessTokens(provider: Provider): void {
    for (const model of [provider.AccessToken, provider.ClientCredentials]) {
      const original = model.prototype.save;
      const fields = model.IN_PAYLOAD;
      // 192-bit ids (32 characters): they fit the API's denylist (`access_token_revocations.jti`).
      const originalId = model.prototype.generateTokenId;
      model.prototype.generateTokenId = function (this: TokenInstance): string {
        const id = originalId.call(this);
        return this.format === 'jwt' ? randomBytes(24).toString('base64url') : id;
      };
      model.prototype.save = async function (this: TokenInstance): Promise<string> {
        const value = await original.call(this);
        if (value.startsWith('eyJ')) {
          const payload: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000) };
          const self = this as unknown as Record<string, unknown>;
          for (const f of fields) if (self[f] !== undefined) payload[f] = self[f];
          const { adapter } = this as unknown as {
            adapter: { upsert(id: string, p: unknown, ttl: number): Promise<void> };
          };
          await adapter.upsert(this.jti, payload, this.remainingTTL);
        }
        return value;
      };
    }
  }

  /** The Gatehouse API as a resource server (RFC 8707): JWT access tokens for PUBLIC_URL. */
  private apiResourceServer() {
    return {
      scope: [PROJECTS_SCOPE, ...this.permissionScopes()].join(' '),
      audience: this.config.publicUrl,
      accessTokenTTL: this.config.accessTokenMinutes * 60,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: SIGNING_ALG } },
    };
  }

  /**
   * RFC 8693 token exchange at the token endpoint (the library has authenticated the client): a
   * trusted provider's ID token, or one of ours, becomes an RFC 9068 access token for the API, for
   * the Gatehouse user it stands for. The subject token is checked by TokenExchangeService (shared
   * with `POST /auth/token-exchange`).
   */
  private async tokenExchangeGrant(ctx: KoaContextWithOIDC): Promise<void> {
    const { provider } = ctx.oidc;
    const client = ctx.oidc.client!;
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const registered = await this.clients.find(client.clientId);
    if (!registered?.grantTypes.includes(TOKEN_EXCHANGE_GRANT))
      throw new errors.UnauthorizedClient('this client is not allowed to exchange tokens');
    for (const name of ['subject_token', 'subject_token_type'])
      if (!params[name]) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
    if (params['actor_token'] !== undefined || params['actor_token_type'] !== undefined)
      throw new errors.InvalidRequest("'actor_token' is not supported (no delegation)");
    if (
      params['requested_token_type'] !== undefined &&
      params['requested_token_type'] !== TOKEN_TYPE_ACCESS_TOKEN
    )
      throw new errors.InvalidRequest(
        `'requested_token_type' must be ${TOKEN_TYPE_ACCESS_TOKEN} (the only type issued)`,
      );
    for (const name of ['audience', 'resource'])
      if (params[name] !== undefined && params[name] !== this.config.publicUrl)
        throw new errors.InvalidTarget(`'${name}' must be ${this.config.publicUrl}`);
    const requested = params['scope'] ? params['scope'].split(' ').filter(Boolean) : [];
    const allowed = new Set(registered.scopes);
    for (const s of requested)
      if (!allowed.has(s)) throw new errors.InvalidScope('requested scope is not allowed', s);

    let subject: ExchangeSubject;
    try {
      subject = await this.exchange.resolveSubject(
        params['subject_token']!,
        params['subject_token_type']!,
        client.clientId,
      );
    } catch (err) {
      if (!(err instanceof TokenExchangeError)) throw err;
      if (err.reason === 'unsupported_token_type')
        throw new errors.InvalidRequest(`'subject_token_type' is not supported`);
      if (err.reason === 'unavailable') {
        const e = new errors.TemporarilyUnavailable(err.message);
        e.status = 503;
        e.statusCode = 503;
        throw e;
      }
      // The library keeps an invalid_grant's detail out of the body; the reason is the client's to
      // know here (the older JSON route says the same).
      const e = new errors.InvalidGrant(err.message);
      e.error_description = err.message;
      throw e;
    }

    const at = new provider.AccessToken({
      accountId: subject.user.id,
      client,
      gty: 'token_exchange',
    });
    const rs = this.apiResourceServer();
    at.resourceServer = new provider.ResourceServer(this.config.publicUrl, rs);
    const forApi = new Set(rs.scope.split(' '));
    at.scope = requested.filter((s) => forApi.has(s)).join(' ') || undefined;
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();
    await this.exchange.recordExchange(subject, at.jti, client.clientId);
    ctx.body = {
      access_token: value,
      issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: at.expiration,
      ...(at.scope ? { scope: at.scope } : {}),
    };
  }

  private configuration(jwks: unknown[]): Configuration {
    const cfg = this.config;
    const publicUrl = cfg.publicUrl;
    const cookieKey = createHmac('sha256', cfg.secretKey).update('oidc-provider-cookies').digest();
    const accessTtl = cfg.accessTokenMinutes * 60;
    return {
      adapter: adapterClass({
        repo: this.payloads,
        db: this.db,
        tokens: this.tokens,
        findClient: async (id) => {
          const c = await this.clients.find(id);
          return c ? clientMetadata(c) : undefined;
        },
      }),
      jwks: { keys: jwks },
      cookies: {
        keys: [cookieKey.toString('base64url')],
        long: { signed: true, httpOnly: true, sameSite: 'lax' },
        short: { signed: true, httpOnly: true, sameSite: 'lax' },
      },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'updated_at'],
      },
      scopes: [
        'openid',
        'offline_access',
        'email',
        'profile',
        PROJECTS_SCOPE,
        ...this.permissionScopes(),
      ],
      responseTypes: ['code'],
      pkce: {
        required: (_ctx: unknown, client: { tokenEndpointAuthMethod: string }) =>
          client.tokenEndpointAuthMethod === 'none',
      },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      enabledJWA: {
        idTokenSigningAlgValues: [SIGNING_ALG],
        userinfoSigningAlgValues: [SIGNING_ALG],
        introspectionSigningAlgValues: [SIGNING_ALG],
        authorizationSigningAlgValues: [SIGNING_ALG],
        clientAuthSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
      },
      clientDefaults: {
        grant_types: ['authorization_code'],
        id_token_signed_response_alg: SIGNING_ALG,
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      extraClientMetadata: {
        properties: ['allowed_origins', 'first_party'],
        validator: (_ctx: unknown, key: string, value: unknown) => {
          if (key === 'allowed_origins' && value !== undefined && !Array.isArray(value))
            throw new Error('allowed_origins must be an array');
        },
      },
      clientBasedCORS: (_ctx: unknown, origin: string, client: Record<string, unknown>) =>
        Array.isArray(client['allowed_origins']) && client['allowed_origins'].includes(origin),
      findAccount: (_ctx: unknown, sub: string) => this.findAccount(sub),
      interactions: {
        policy: this.policy(),
        url: (_ctx: unknown, interaction: { uid: string }) =>
          `${INTERACTION_PATH}/${interaction.uid}`,
      },
      loadExistingGrant: (ctx: {
        oidc: {
          client?: { clientId: string };
          session?: { accountId?: string; grantIdFor(id: string): string | undefined };
          result?: { consent?: { grantId?: string } };
          provider: Provider;
        };
      }) => this.loadExistingGrant(ctx),
      issueRefreshToken: (
        _ctx: unknown,
        client: { grantTypeAllowed(t: string): boolean },
        code: { scopes: Set<string> },
      ) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      rotateRefreshToken: true,
      allowOmittingSingleRegisteredRedirectUri: false,
      conformIdTokenClaims: true,
      extraTokenClaims: async (_ctx: unknown, token: TokenInstance) => {
        // A client_credentials token acts as the client's service account (its id is the
        // client's): `sub` says so in introspection too (the JWT has it already).
        const serviceSub = token.kind === 'ClientCredentials' ? { sub: token.clientId } : {};
        const userId = token.accountId ?? token.clientId;
        if (!token.scopes.has(PROJECTS_SCOPE) || !userId) return serviceSub;
        return {
          ...serviceSub,
          projects: await this.tokens.projectPermissionsFor(userId, null),
        };
      },
      formats: { bitsOfOpaqueRandomness: 192 },
      features: {
        devInteractions: { enabled: false },
        claimsParameter: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: KoaContextWithOIDC, form: string) => this.logoutPage(ctx, form),
          postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => this.loggedOutPage(ctx),
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: (ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string) => {
            if (oneOf) return oneOf;
            // A client's own token (client_credentials) is for this API; a person's access token
            // without `resource` is for userinfo only (opaque).
            return ctx.oidc.params?.['grant_type'] === 'client_credentials' ? publicUrl : undefined;
          },
          // A token for the API is asked for with `resource` (at the token endpoint); without it, a
          // person's access token is for userinfo.
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (indicator !== publicUrl) throw new errors.InvalidTarget();
            return this.apiResourceServer();
          },
        },
      },
      ttl: {
        AccessToken: accessTtl,
        ClientCredentials: accessTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 600,
        Session: cfg.sessionAbsoluteHours * 3600,
        Grant: cfg.refreshFamilyDays * 86_400,
        RefreshToken: cfg.refreshFamilyDays * 86_400,
      },
      routes: {
        authorization: '/oidc/auth',
        token: TOKEN_PATH,
        userinfo: '/oidc/me',
        jwks: '/.well-known/jwks.json',
        introspection: INTROSPECTION_PATH,
        revocation: REVOCATION_PATH,
        end_session: '/oidc/session/end',
        pushed_authorization_request: '/oidc/request',
        code_verification: '/oidc/device',
        device_authorization: '/oidc/device/auth',
        registration: '/oidc/reg',
        backchannel_authentication: '/oidc/backchannel',
        challenge: '/oidc/challenge',
      },
      renderError: (ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }) =>
        this.errorPage(ctx, out),
    };
  }

  /**
   * One session for Gatehouse and the provider: the provider's session counts only while the
   * Gatehouse session of the same browser is alive and belongs to the same person (so signing out
   * of Gatehouse, or in as someone else, ends it; `prompt=none` then answers login_required).
   */
  private policy(): interactionPolicy.Policy {
    const policy = interactionPolicy.base();
    policy.get('login')?.checks.add(
      new interactionPolicy.Check(
        'gatehouse_session',
        'the Gatehouse session ended or belongs to someone else',
        // prompt=none: the client learns that a sign-in is needed (OpenID Connect Core 3.1.2.6).
        'login_required',
        async (ctx) => {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
          const p = await this.sessionOf(
            fastifyCookie.parse(ctx.req.headers.cookie ?? '')[SESSION_COOKIE],
          );
          return p?.userId === accountId
            ? interactionPolicy.Check.NO_NEED_TO_PROMPT
            : interactionPolicy.Check.REQUEST_PROMPT;
        },
      ),
      0,
    );
    return policy;
  }

  private async findAccount(sub: string): Promise<Account | undefined> {
    const user = await this.users.findById(sub);
    if (!user || user.status !== 'active') return undefined;
    return {
      accountId: user.id,
      claims: () => ({
        sub: user.id,
        ...(user.kind === 'person'
          ? { email: user.email, email_verified: user.emailVerified }
          : {}),
        ...(user.fullName ? { name: user.fullName } : {}),
        updated_at: Math.floor(user.updatedAt.getTime() / 1000),
      }),
    };
  }

  /**
   * A first-party client's grant is implied; a third-party client's consent is the latest grant the
   * person gave it (so consent is asked once per scope set, whatever the session).
   */
  private async loadExistingGrant(ctx: {
    oidc: {
      client?: { clientId: string };
      session?: { accountId?: string; grantIdFor(id: string): string | undefined };
      result?: { consent?: { grantId?: string } };
      provider: Provider;
    };
  }) {
    const clientId = ctx.oidc.client?.clientId;
    const accountId = ctx.oidc.session?.accountId;
    if (!clientId || !accountId) return undefined;
    const given = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
    if (given) return ctx.oidc.provider.Grant.find(given);
    const latest = await this.payloads.latestGrant(accountId, clientId);
    return latest ? ctx.oidc.provider.Grant.find(latest.id) : undefined;
  }

  private logoutPage(ctx: KoaContextWithOIDC, form: string): void {
    renderInto(
      ctx,
      200,
      'Sign out',
      html`<h1>Sign out</h1>
        <p>Sign out of Gatehouse and the applications that use it?</p>
        ${new Html(form)}
        <p>
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
          <button type="submit" form="op.logoutForm">Stay signed in</button>
        </p>`,
    );
  }

  private loggedOutPage(ctx: KoaContextWithOIDC): void {
    renderInto(
      ctx,
      200,
      'Signed out',
      html`<h1>Signed out</h1>
        <p>You have signed out of Gatehouse.</p>
        <p><a href="/signin">Sign in again</a></p>`,
    );
  }

  private errorPage(
    ctx: KoaContextWithOIDC,
    out: { error?: string; error_description?: string },
  ): void {
    renderInto(
      ctx,
      ctx.status >= 400 ? ctx.status : 400,
      'Sign-in error',
      html`<h1>This sign-in request cannot be completed</h1>
        <p>${out.error_description ?? out.error ?? 'The request is invalid.'}</p>
        <p><code>${out.error ?? 'invalid_request'}</code></p>`,
    );
  }

  /**
   * The Gatehouse session a browser's `gh_session` cookie names, or null. An enrolment-only
   * session (a second factor is required and not enrolled yet) signs in to no application: null,
   * unless `enrolment` asks for it (to say so on a page).
   */
  async sessionOf(token: string | undefined, enrolment = false): Promise<Principal | null> {
    if (!token) return null;
    const resolver = this.registry.ofKind('session');
    if (!resolver?.accepts(token)) return null;
    const principal = await resolver.resolve(token, 'cookie');
    return principal?.mfaEnrolmentRequired && !enrolment ? null : principal;
  }

  /**
   * Puts the provider's paths on Fastify next to Nest's routes: its own paths under /oidc (the
   * interaction pages are Nest's, and more specific), the discovery documents, and the shared
   * token endpoint, where the provider's grants are handed over before Nest's handler (Gatehouse's
   * grant refresh tokens keep theirs). Each request goes to the provider's Node handler on the raw
   * request and response, with the body Fastify already parsed.
   */
  mount(fastify: FastifyInstance): void {
    const serve = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const route = await this.route(req, reply);
      if (route === 'next') throw new NotFoundException();
      if (route === 'provider') await this.pass(req, reply);
    };
    fastify.all('/oidc/*', serve);
    for (const path of ['/.well-known/openid-configuration', OAUTH_METADATA_PATH]) {
      fastify.route({ method: ['GET', 'HEAD', 'OPTIONS'], url: path, handler: serve });
    }
    // CORS preflights of the token endpoint (Nest's route there answers POST only).
    fastify.options(TOKEN_PATH, serve);
    // The provider's grants at the shared token endpoint: a hook on Nest's POST route there only
    // (registered after this), so that no other request runs it.
    const grants = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if ((await this.route(req, reply)) === 'provider') await this.pass(req, reply);
    };
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (route.url !== TOKEN_PATH || !methods.includes('POST')) return;
      const existing = route.preHandler ?? [];
      route.preHandler = [...(Array.isArray(existing) ? existing : [existing]), grants];
    });
  }

  /**
   * Hands the request to the provider (Koa, on the raw request and response), until it has
   * answered: the route's handler, and with it the request's context, lasts as long as its work.
   */
  private async pass(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { handler } = await this.current();
    const [raw, res] = handOver(req, reply);
    handler(raw, res);
    // Done when the response is (or its client has gone: that rejects, and is not an error here).
    await finished(res).catch(() => undefined);
  }

  private async route(
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<'next' | 'provider' | 'done'> {
    const path = requestPath(req);
    if (path === TOKEN_PATH) {
      if (req.method === 'OPTIONS') return 'provider';
      if (req.method !== 'POST') return 'next';
      const body = (req.body ?? {}) as Record<string, unknown>;
      const grantType = body['grant_type'];
      if (typeof grantType !== 'string' || !PROVIDER_GRANTS.has(grantType)) return 'next';
      if (grantType === 'refresh_token') {
        const rt = body['refresh_token'];
        // Gatehouse's grants, and any refresh sent as JSON (RFC 6749 grants are form-encoded;
        // JSON is Gatehouse's own extension for its grants, answered by their handler).
        if (typeof rt !== 'string' || rt.startsWith(REFRESH_TOKEN_PREFIX) || sentAsJson(req))
          return 'next';
      }
      return 'provider';
    }
    if (path === '/.well-known/openid-configuration') return 'provider';
    if (path === OAUTH_METADATA_PATH) {
      // RFC 8414: the same document as OpenID discovery.
      req.raw.url = '/.well-known/openid-configuration';
      return 'provider';
    }
    if (!path.startsWith('/oidc/') || path.startsWith(`${INTERACTION_PATH}/`)) return 'next';
    if (path === INTROSPECTION_PATH && req.method === 'POST') {
      // RFC 7662 for authenticated clients only: a public (or unknown) client is invalid_client.
      const body = (req.body ?? {}) as Record<string, unknown>;
      const clientId =
        parseBasic(req.headers.authorization) ??
        (typeof body['client_id'] === 'string' ? body['client_id'] : undefined);
      const client = clientId ? await this.clients.find(clientId) : null;
      if (!client || client.tokenEndpointAuthMethod === 'none') {
        await res
          .status(401)
          .headers({ 'Cache-Control': 'no-store', 'WWW-Authenticate': 'Basic realm="gatehouse"' })
          .send({ error: 'invalid_client', error_description: 'client authentication failed' });
        return 'done';
      }
    }
    if ((path === INTROSPECTION_PATH || path === REVOCATION_PATH) && req.method === 'POST') {
      // The library refuses structured tokens here; Gatehouse stores its JWT access tokens by jti,
      // so a JWT our keys signed is looked up by its jti (one they did not sign matches nothing).
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = body['token'];
      if (typeof token === 'string' && JWT_SHAPE.test(token)) {
        const claims = await this.tokens.verify(token);
        body['token'] = claims?.jti ?? 'unknown-structured-token';
      }
    }
    if (path === END_SESSION_CONFIRM_PATH && req.method === 'POST') {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (body['logout']) await this.endGatehouseSession(req, res);
    }
    return 'provider';
  }

  /** RP-initiated logout ends the Gatehouse session too (one session, revoked together). */
  private async endGatehouseSession(req: FastifyRequest, res: FastifyReply): Promise<void> {
    const p = await this.sessionOf(req.cookies[SESSION_COOKIE]);
    if (p) {
      const resolver = this.registry.ofKind('session');
      await this.db.transaction((tx) => resolver!.revokeForLogout(tx, p));
    }
    clearSessionCookieRaw(res.raw, this.config);
  }
}

/**
 * A Gatehouse page as the provider's response (its hooks answer through Koa): rendered by
 * sendPage into a stand-in response, then handed to the context.
 */
function renderInto(ctx: KoaContextWithOIDC, status: number, title: string, body: Html): void {
  const out: { headers: Record<string, string>; body: string } = { headers: {}, body: '' };
  const stand = {
    status: () => stand,
    headers: (h: Record<string, string>) => {
      Object.assign(out.headers, h);
      return stand;
    },
    send: (b: string) => {
      out.body = b;
      return stand;
    },
  };
  sendPage(stand as unknown as FastifyReply, status, title, body);
  for (const [k, v] of Object.entries(out.headers)) ctx.set(k, v);
  ctx.status = status;
  ctx.body = out.body;
}
