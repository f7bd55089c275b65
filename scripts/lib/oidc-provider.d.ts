// Minimal types for the parts of oidc-provider (v9, ships no types) that Gatehouse's dev identity
// provider and tests use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): AccountClaims | Promise<AccountClaims>;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(): Promise<string>;
    readonly jti?: string;
  }

  /** What the provider stores through an adapter (the library's JSON). */
  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    userCode?: string;
    uid?: string;
    clientId?: string;
    accountId?: string;
    consumed?: unknown;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string; uid?: string };
    grantId?: string;
    lastSubmission?: Record<string, unknown>;
    /** When the interaction began (seconds). */
    iat: number;
  }

  /** The library's Koa context, as far as Gatehouse's hooks read it. */
  export interface KoaContextWithOIDC {
    oidc: {
      params?: Record<string, unknown>;
      client?: { clientId: string };
      route?: string;
      session?: { accountId?: string };
      provider: Provider;
      entity(kind: string, value: unknown): void;
    };
    req: IncomingMessage;
    res: ServerResponse;
    body: unknown;
    type: string;
    status: number;
    respond?: boolean;
    set(field: string, value: string): void;
  }

  /** A token instance as hooks see it (access tokens, client credentials). */
  export interface TokenInstance {
    kind: string;
    jti: string;
    accountId?: string;
    clientId?: string;
    grantId?: string;
    scope?: string;
    scopes: Set<string>;
    exp?: number;
    iat?: number;
    remainingTTL: number;
    save(): Promise<string>;
    generateTokenId(): string;
    format?: string;
  }

  export interface TokenModel {
    prototype: TokenInstance;
    IN_PAYLOAD: string[];
  }

  export namespace interactionPolicy {
    class Check {
      static readonly REQUEST_PROMPT: true;
      static readonly NO_NEED_TO_PROMPT: false;
      constructor(
        reason: string,
        description: string,
        check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>,
      );
      /** With the error answered to prompt=none (default interaction_required). */
      constructor(
        reason: string,
        description: string,
        error: string,
        check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>,
      );
    }
    interface Prompt {
      name: string;
      checks: { add(check: Check, index?: number): void };
    }
    interface Policy extends Array<Prompt> {
      get(name: string): Prompt | undefined;
    }
    function base(): Policy;
  }

  /** The library's errors: an OAuth `error` code with its HTTP status. */
  export interface OIDCProviderError extends Error {
    status: number;
    statusCode: number;
    error: string;
    error_description?: string;
  }
  type OIDCProviderErrorClass = new (description?: string, detail?: string) => OIDCProviderError;
  export const errors: {
    InvalidTarget: OIDCProviderErrorClass;
    InvalidClient: OIDCProviderErrorClass;
    AccessDenied: OIDCProviderErrorClass;
    InvalidRequest: OIDCProviderErrorClass;
    InvalidGrant: OIDCProviderErrorClass;
    InvalidScope: OIDCProviderErrorClass;
    UnauthorizedClient: OIDCProviderErrorClass;
    TemporarilyUnavailable: OIDCProviderErrorClass;
  };

  /** A resource server (RFC 8707) as the library describes one. */
  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string } };
  }

  export interface AccessTokenInstance extends TokenInstance {
    resourceServer?: unknown;
    readonly expiration: number;
  }

  export interface GrantModel {
    new (init: { clientId: string; accountId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }

  export interface ProviderContext {
    oidc: {
      client?: { clientId: string };
      session?: { accountId?: string; grantIdFor(clientId: string): string | undefined };
      result?: { consent?: { grantId?: string } };
      provider: { Grant: GrantModel };
    };
  }

  export type Configuration = Record<string, unknown>;

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    readonly Grant: GrantModel;
    readonly Client: {
      prototype: { compareClientSecret(actual: string): boolean | Promise<boolean> };
      find(id: string): Promise<(Record<string, unknown> & { clientId: string }) | undefined>;
    };
    readonly AccessToken: TokenModel &
      (new (init: { accountId: string; client: unknown; gty?: string }) => AccessTokenInstance);
    readonly ResourceServer: new (identifier: string, info: ResourceServerInfo) => unknown;
    registerGrantType(
      name: string,
      handler: (ctx: KoaContextWithOIDC) => Promise<void>,
      params?: string | string[],
    ): void;
    readonly ClientCredentials: TokenModel;
    readonly issuer: string;
    proxy: boolean;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
