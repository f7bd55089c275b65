import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppException } from '#src/common/errors/app.exception.js';
import { AuditService } from '#src/audit/audit.service.js';
import { TOKEN_EXCHANGE_GRANT } from '#src/credentials/token-exchange/token-exchange.service.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { sha256Hex } from '#src/crypto/tokens.js';
import { UserEventBus } from '#src/kernel/events.js';
import type { Principal } from '#src/kernel/principal.js';
import { DeclaresPermissions } from '#src/users/permission-catalogue.js';
import { UsersService } from '#src/users/users.service.js';
import { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';
import { OAuthClient } from '#src/provider/entities/oauth-client.entity.js';
import { revokeClientRows } from '#src/provider/oidc-adapter.js';
import { OidcPayloadsRepository } from '#src/provider/oidc-payloads.repository.js';
import type {
  ClientResponse,
  CreateClientDto,
  CreatedClientResponse,
  UpdateClientDto,
} from '#src/provider/clients/clients.dto.js';

const SECRET_PREFIX = 'ghcs_';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The registry's permissions; admins hold them through `*`. */
export const CLIENT_PERMISSIONS = [
  { name: 'clients.read', description: 'List and read OAuth clients', scope: 'server' },
  {
    name: 'clients.manage',
    description: 'Register, change, delete OAuth clients and rotate their secrets',
    scope: 'server',
  },
] as const;

/** A secret's stored form: SHA-256 of a 256-bit random value (no slow hash needed at that entropy). */
export function hashClientSecret(secret: string): string {
  return sha256Hex(secret);
}

function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

function parseUrl(field: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw AppException.invalid(field, `${raw} is not an absolute URL`);
  }
  if (url.hash) throw AppException.invalid(field, `${raw} must not have a fragment`);
  return url;
}

/** Exact redirect URIs; http only for loopback (RFC 8252), custom schemes for native apps. */
function checkRedirectUris(field: string, uris: string[]): void {
  for (const raw of uris) {
    const url = parseUrl(field, raw);
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname))
      throw AppException.invalid(field, `${raw}: http is allowed only for loopback addresses`);
    if (url.protocol === 'javascript:' || url.protocol === 'data:')
      throw AppException.invalid(field, `${raw}: scheme not allowed`);
  }
}

function checkOrigins(field: string, origins: string[]): void {
  for (const raw of origins) {
    const url = parseUrl(field, raw);
    if (!['http:', 'https:'].includes(url.protocol) || url.origin !== raw)
      throw AppException.invalid(field, `${raw} must be an origin (scheme://host[:port])`);
  }
}

export function toClientResponse(c: OAuthClient): ClientResponse {
  return {
    clientId: c.clientId,
    name: c.name,
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    grantTypes: c.grantTypes,
    tokenEndpointAuthMethod: c.tokenEndpointAuthMethod,
    scopes: c.scopes,
    firstParty: c.firstParty,
    allowedOrigins: c.allowedOrigins,
    jwksUri: c.jwksUri,
    serviceUserId: c.serviceUserId,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** The OAuth client registry (`/api/v1/clients`) and what the provider reads from it. */
@Injectable()
@DeclaresPermissions(CLIENT_PERMISSIONS)
export class ClientsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly tokens: AccessTokensService,
    private readonly audit: AuditService,
    private readonly events: UserEventBus,
    private readonly payloads: OidcPayloadsRepository,
  ) {}

  private repo(tx?: Tx) {
    return (tx ?? this.db.manager).getRepository(OAuthClient);
  }

  find(clientId: string): Promise<OAuthClient | null> {
    if (!/^[0-9a-zA-Z-]{1,36}$/.test(clientId)) return Promise.resolve(null);
    return this.repo()
      .createQueryBuilder('c')
      .addSelect('c.secretHash')
      .where('c.clientId = :clientId', { clientId })
      .getOne();
  }

  private async require(clientId: string, tx?: Tx): Promise<OAuthClient> {
    const c = await this.repo(tx).findOneBy({ clientId });
    if (!c) throw AppException.notFound('Client');
    return c;
  }

  async list(): Promise<{ items: ClientResponse[] }> {
    const rows = await this.repo().find({ order: { createdAt: 'ASC', clientId: 'ASC' } });
    return { items: rows.map(toClientResponse) };
  }

  async get(clientId: string): Promise<ClientResponse> {
    return toClientResponse(await this.require(clientId));
  }

  private validate(c: OAuthClient): void {
    const grants = new Set(c.grantTypes);
    if (grants.size !== c.grantTypes.length)
      throw AppException.invalid('grantTypes', 'must not repeat a grant type');
    if (grants.size === 0) throw AppException.invalid('grantTypes', 'must name at least one');
    if (c.tokenEndpointAuthMethod === 'none' && grants.has('client_credentials'))
      throw AppException.invalid(
        'grantTypes',
        'client_credentials needs a confidential client (tokenEndpointAuthMethod other than none)',
      );
    if (c.tokenEndpointAuthMethod === 'none' && grants.has(TOKEN_EXCHANGE_GRANT))
      throw AppException.invalid(
        'grantTypes',
        'token exchange needs a confidential client (tokenEndpointAuthMethod other than none)',
      );
    if (grants.has('refresh_token') && !grants.has('authorization_code'))
      throw AppException.invalid('grantTypes', 'refresh_token needs authorization_code');
    if (grants.has('authorization_code') && c.redirectUris.length === 0)
      throw AppException.invalid('redirectUris', 'authorization_code needs at least one');
    checkRedirectUris('redirectUris', c.redirectUris);
    checkRedirectUris('postLogoutRedirectUris', c.postLogoutRedirectUris);
    checkOrigins('allowedOrigins', c.allowedOrigins);
    if (c.tokenEndpointAuthMethod === 'private_key_jwt') {
      if (!c.jwks === !c.jwksUri)
        throw AppException.invalid('jwks', 'private_key_jwt needs exactly one of jwks or jwksUri');
      if (c.jwksUri && parseUrl('jwksUri', c.jwksUri).protocol !== 'https:')
        throw AppException.invalid('jwksUri', 'must be an https URL');
      if (c.jwks) {
        const keys = (JSON.parse(c.jwks) as { keys?: unknown }).keys;
        if (!Array.isArray(keys) || keys.length === 0)
          throw AppException.invalid('jwks', 'must be a JWK Set with at least one key');
        for (const k of keys as Record<string, unknown>[]) {
          if (typeof k !== 'object' || k === null || typeof k['kty'] !== 'string')
            throw AppException.invalid('jwks', 'each key needs kty');
          if ('d' in k) throw AppException.invalid('jwks', 'must hold public keys only');
        }
      }
    } else if (c.jwks || c.jwksUri) {
      throw AppException.invalid('jwks', 'only for tokenEndpointAuthMethod private_key_jwt');
    }
    if (!c.scopes.includes('openid') && grants.has('authorization_code'))
      throw AppException.invalid('scopes', 'must include openid for authorization_code');
  }

  async create(p: Principal, dto: CreateClientDto): Promise<CreatedClientResponse> {
    const c = new OAuthClient();
    c.clientId = newId();
    c.name = dto.name.trim();
    c.tokenEndpointAuthMethod = dto.tokenEndpointAuthMethod;
    c.grantTypes = dto.grantTypes;
    c.redirectUris = dto.redirectUris ?? [];
    c.postLogoutRedirectUris = dto.postLogoutRedirectUris ?? [];
    c.scopes = dto.scopes ?? ['openid'];
    c.firstParty = dto.firstParty ?? false;
    c.allowedOrigins = dto.allowedOrigins ?? [];
    c.jwks = dto.jwks ? JSON.stringify(dto.jwks) : null;
    c.jwksUri = dto.jwksUri ?? null;
    this.validate(c);
    const secret =
      c.tokenEndpointAuthMethod === 'client_secret_basic' ||
      c.tokenEndpointAuthMethod === 'client_secret_post'
        ? newSecret()
        : null;
    c.secretHash = secret ? hashClientSecret(secret) : null;
    c.createdAt = new Date();
    c.updatedAt = c.createdAt;
    c.version = 1;
    c.serviceUserId = c.grantTypes.includes('client_credentials') ? c.clientId : null;
    await this.db.transaction(async (tx) => {
      if (c.serviceUserId) await this.createServiceUser(tx, p, c);
      await this.repo(tx).insert({ ...c });
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'client.create',
        targetType: 'client',
        targetId: c.clientId,
        changes: { ...toClientResponse(c), createdAt: undefined, updatedAt: undefined },
      });
    });
    return { ...toClientResponse(c), ...(secret ? { clientSecret: secret } : {}) };
  }

  /**
   * The client's service account: a user of kind `service` with the client's id, no password and
   * no email, so it cannot sign in by password, by mail or through an upstream provider (and no
   * mail is ever sent to it).
   */
  private async createServiceUser(tx: Tx, p: Principal, c: OAuthClient): Promise<void> {
    await this.users.createUser(
      tx,
      {
        id: c.clientId,
        kind: 'service',
        email: null,
        fullName: c.name,
        status: 'active',
        emailVerified: false,
        role: 'user',
      },
      p.userId,
    );
  }

  async update(p: Principal, clientId: string, dto: UpdateClientDto): Promise<ClientResponse> {
    return this.db.transaction(async (tx) => {
      const c = await this.require(clientId, tx);
      const before = toClientResponse(c);
      if (dto.name !== undefined) c.name = dto.name.trim();
      if (dto.redirectUris !== undefined) c.redirectUris = dto.redirectUris;
      if (dto.postLogoutRedirectUris !== undefined)
        c.postLogoutRedirectUris = dto.postLogoutRedirectUris;
      if (dto.scopes !== undefined) c.scopes = dto.scopes;
      if (dto.firstParty !== undefined) c.firstParty = dto.firstParty;
      if (dto.allowedOrigins !== undefined) c.allowedOrigins = dto.allowedOrigins;
      this.validate(c);
      c.updatedAt = new Date();
      await this.repo(tx).update(
        { clientId },
        {
          name: c.name,
          redirectUris: c.redirectUris,
          postLogoutRedirectUris: c.postLogoutRedirectUris,
          scopes: c.scopes,
          firstParty: c.firstParty,
          allowedOrigins: c.allowedOrigins,
          updatedAt: c.updatedAt,
          version: c.version + 1,
        },
      );
      const after = toClientResponse(c);
      const changes: Record<string, unknown> = {};
      for (const k of Object.keys(dto) as (keyof UpdateClientDto)[])
        if (JSON.stringify(before[k]) !== JSON.stringify(after[k]))
          changes[k] = { from: before[k], to: after[k] };
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'client.update',
        targetType: 'client',
        targetId: clientId,
        changes,
      });
      return after;
    });
  }

  async rotateSecret(
    p: Principal,
    clientId: string,
  ): Promise<{ clientId: string; clientSecret: string }> {
    const secret = newSecret();
    await this.db.transaction(async (tx) => {
      const c = await this.require(clientId, tx);
      if (
        c.tokenEndpointAuthMethod !== 'client_secret_basic' &&
        c.tokenEndpointAuthMethod !== 'client_secret_post'
      )
        throw AppException.rule(
          'no_client_secret',
          `A client with tokenEndpointAuthMethod ${c.tokenEndpointAuthMethod} has no secret.`,
        );
      await this.repo(tx).update(
        { clientId },
        { secretHash: hashClientSecret(secret), updatedAt: new Date(), version: c.version + 1 },
      );
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'client.secret_rotate',
        targetType: 'client',
        targetId: clientId,
        changes: {},
      });
    });
    return { clientId, clientSecret: secret };
  }

  /** Deletes the client: its tokens stop at once and its service account is disabled. */
  async remove(p: Principal, clientId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const c = await this.require(clientId, tx);
      await revokeClientRows(tx, this.payloads, this.tokens, clientId);
      if (c.serviceUserId) {
        const user = await this.users.findById(c.serviceUserId, tx);
        if (user && user.status !== 'disabled') {
          await this.users.applyChanges(tx, user, { status: 'disabled', updatedAt: new Date() });
          await this.audit.record(tx, {
            actorId: p.userId,
            action: 'user.update',
            targetType: 'user',
            targetId: user.id,
            changes: { status: { from: user.status, to: 'disabled' }, reason: 'client_deleted' },
          });
          await this.events.emit(tx, 'user.disabled', { userId: user.id });
        }
      }
      await this.repo(tx).delete({ clientId });
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'client.delete',
        targetType: 'client',
        targetId: clientId,
        changes: { name: c.name },
      });
    });
    this.tokens.cache.clear();
  }
}
