import { Injectable } from '@nestjs/common';
import { SignJWT, type JWTPayload } from 'jose';
import { AppConfig } from '#src/config/config.js';
import { AuditService } from '#src/audit/audit.service.js';
import {
  ResolvesCredentials,
  type CredentialResolver,
  type Resolved,
} from '#src/kernel/credential-registry.js';
import { withCredential, type Principal } from '#src/kernel/principal.js';
import { CredentialCache } from '#src/auth/cache/credential-cache.js';
import { sha256Hex } from '#src/crypto/tokens.js';
import type { Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { UsersService } from '#src/users/users.service.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { AccessTokenRevocation } from '#src/credentials/entities/access-token-revocation.entity.js';
import { FailureAudit } from '#src/credentials/failure-audit.js';
import type { Grant } from '#src/credentials/entities/grant.entity.js';
import { GrantsRepository } from '#src/credentials/grants/grants.repository.js';
import { AccessTokenRevocationsRepository } from '#src/credentials/tokens/access-token-revocations.repository.js';
import { SigningKeysService } from '#src/credentials/tokens/signing-keys.service.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { grantProjectPermissions } from '#src/kernel/narrowing.js';
import { PrincipalChanges } from '#src/auth/cache/principal-changes.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
const CLOCK_SKEW_SECONDS = 30;
// A compact JWS whose header and payload are JSON objects ("eyJ" is base64url of '{"').
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether `token` has the shape of a compact JWS of a bounded length. */
function isCompactJwt(token: string): boolean {
  return token.length < 8192 && JWT_SHAPE.test(token);
}

/**
 * Verified tokens are cached this long by the token's hash: no signature check and no query on a
 * hit. Revoking a grant or a token, and any owner, role or membership change, empties the cache.
 */
export const ACCESS_TOKEN_CACHE_TTL_MS = 2_000;
const ACCESS_TOKEN_CACHE_MAX = 10_000;
const ACCESS_TOKEN_CACHE_BYPASS_MS = 10_000;

interface CachedAccessToken {
  credentialId: string;
  userId: string;
  /** Expiry (ms) as the verification checks it: `exp` plus the allowed clock skew. */
  validUntil: number;
  principal: Omit<Principal, 'credential'>;
  cachedAt: number;
}

export interface MintedAccessToken {
  accessToken: string;
  expiresIn: number;
  jti: string;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  jti: string;
  gid?: string;
  projects?: Record<string, string[]>;
}

/**
 * Gatehouse access tokens: JWTs (RFC 9068 `typ: at+jwt`) signed with the active signing key,
 * verifiable offline with /.well-known/jwks.json. As bearer credentials here they are verified with
 * the local key set, then the owner (and grant) are loaded: a disabled owner or a revoked grant
 * fails at the next request, and project permissions are re-intersected with the owner's current ones.
 */
@Injectable()
@ResolvesCredentials()
export class AccessTokensService implements CredentialResolver {
  readonly kind = 'access_token';
  private readonly issuer: string;
  readonly cache = new CredentialCache<CachedAccessToken>(
    ACCESS_TOKEN_CACHE_TTL_MS,
    ACCESS_TOKEN_CACHE_MAX,
    ACCESS_TOKEN_CACHE_BYPASS_MS,
  );

  constructor(
    private readonly config: AppConfig,
    private readonly keys: SigningKeysService,
    private readonly users: UsersService,
    private readonly grants: GrantsRepository,
    private readonly revocations: AccessTokenRevocationsRepository,
    private readonly projects: AccessService,
    private readonly audit: AuditService,
    private readonly failures: FailureAudit,
    private readonly changes: PrincipalChanges,
    private readonly catalogue: PermissionCatalogue,
  ) {
    this.issuer = config.publicUrl;
  }

  /** Project permissions in force now for a grant (or, without one, everything the owner holds). */
  async projectPermissionsFor(
    userId: string,
    grant: Grant | null,
  ): Promise<Record<string, string[]>> {
    const narrowing = grant?.projectPermissions ?? null;
    const held = await this.projects.permissionsByProject(
      userId,
      narrowing ? narrowing.map((n) => n.projectId) : undefined,
    );
    return grantProjectPermissions(narrowing, held);
  }

  async mint(input: {
    userId: string;
    grant: Grant | null;
    audience?: string | null;
    extra?: Record<string, string>;
  }): Promise<MintedAccessToken> {
    const key = await this.keys.activeKey();
    const now = Math.floor(Date.now() / 1000);
    let exp = now + this.config.accessTokenMinutes * 60;
    // Never outlive the grant's family.
    if (input.grant) exp = Math.min(exp, Math.floor(input.grant.expiresAt.getTime() / 1000));
    const jti = newId();
    const claims: Record<string, unknown> = {
      ...input.extra,
      projects: await this.projectPermissionsFor(input.userId, input.grant),
    };
    if (input.grant) claims['gid'] = input.grant.id;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.issuer)
      .setSubject(input.userId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(jti);
    if (input.audience) jwt.setAudience(input.audience);
    return { accessToken: await jwt.sign(key.privateKey), expiresIn: exp - now, jti };
  }

  /** Offline verification with our own key set: signature, alg, typ, issuer, expiry. */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    try {
      const { payload } = await this.keys.verifyOurs(token, {
        issuer: this.issuer,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      return payload as AccessTokenClaims;
    } catch {
      return null;
    }
  }

  /** A JWT's start and a bounded length; its full shape is `resolve`'s to check. */
  accepts(token: string): boolean {
    return token.length < 8192 && token.startsWith('eyJ');
  }

  resolve(token: string, via: 'header' | 'cookie', requestId?: string): Resolved {
    if (via !== 'header') return null;
    const tokenHash = sha256Hex(token);
    // A token the cache holds had the shape when it was cached; any other is checked first.
    if (!this.cache.holds(tokenHash) && !isCompactJwt(token)) return null;
    // Other instances' revocations first (see PrincipalChanges).
    return this.changes.whenCaughtUp(() => this.resolveHash(token, tokenHash, via, requestId));
  }

  /** From the cache (synchronously) when it holds the token, else verified. */
  private resolveHash(
    token: string,
    tokenHash: string,
    via: 'header' | 'cookie',
    requestId: string | undefined,
  ): Resolved {
    const now = Date.now();
    const cached = this.cache.get(tokenHash, now);
    if (!cached || cached.validUntil <= now)
      return this.verifyAndCache(token, tokenHash, via, now, requestId);
    return withCredential(cached.principal, {
      kind: 'access_token',
      id: cached.credentialId,
      via,
    });
  }

  private async verifyAndCache(
    token: string,
    tokenHash: string,
    via: 'header' | 'cookie',
    now: number,
    requestId: string | undefined,
  ): Promise<Principal | null> {
    const generation = this.cache.generation;
    const found = await this.resolveUncached(token, via, requestId);
    if (!found) return null;
    const { principal, exp } = found;
    const { credential, ...rest } = principal;
    this.cache.set(
      tokenHash,
      {
        credentialId: credential.id,
        userId: principal.userId,
        validUntil: (exp + CLOCK_SKEW_SECONDS) * 1000,
        principal: rest,
        cachedAt: Date.now(),
      },
      now,
      generation,
    );
    return principal;
  }

  /**
   * An OpenID Provider token (it names its client) whose `scope` lists server permissions is
   * narrowed to them, as an API key's scopes narrow it; without any, it carries the owner's.
   */
  private permissionScopes(claims: AccessTokenClaims): string[] | null {
    if (claims['client_id'] === undefined || typeof claims['scope'] !== 'string') return null;
    const server = new Set(
      this.catalogue
        .list()
        .filter((p) => p.scope === 'server')
        .map((p) => p.name),
    );
    const scopes = claims['scope'].split(' ').filter((s) => server.has(s));
    return scopes.length ? scopes : null;
  }

  /** The principal of one of our JWT access tokens, checked as the API checks it (token exchange). */
  async principalOf(token: string): Promise<Principal | null> {
    if (!isCompactJwt(token)) return null;
    return (await this.resolveUncached(token, 'header'))?.principal ?? null;
  }

  private async resolveUncached(
    token: string,
    via: 'header' | 'cookie',
    requestId?: string,
  ): Promise<{ principal: Principal; exp: number } | null> {
    const claims = await this.verify(token);
    if (!claims) return null;
    // Tokens of the OpenID Provider (they name their client) are for this API only when their
    // audience is PUBLIC_URL (RFC 8707: a token for another resource is not ours to accept).
    if (claims['client_id'] !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(this.issuer)) return null;
    }
    const user = await this.users.findById(claims.sub);
    if (!user || user.status !== 'active') return null;
    let grant: Grant | null = null;
    if (typeof claims.gid === 'string') {
      grant = await this.grants.findById(claims.gid);
      if (!grant || grant.userId !== user.id) return null;
      if (grant.revokedAt !== null) {
        await this.failures.record({
          action: 'access_token.use_refused',
          userId: user.id,
          credentialId: grant.id,
          reason: 'grant_revoked',
          requestId,
        });
        return null;
      }
    } else if (await this.revocations.isRevoked(claims.jti)) {
      return null;
    }
    // Narrowed grants carry their project permissions, re-intersected with the owner's now.
    const projectPermissions = grant?.projectPermissions
      ? await this.projectPermissionsFor(user.id, grant)
      : null;
    const principal = await this.users.principalFor(
      user,
      { kind: 'access_token', id: grant?.id ?? claims.jti, via },
      { projectPermissions, scopes: this.permissionScopes(claims) },
    );
    return { principal, exp: claims.exp ?? 0 };
  }

  /**
   * Denylists access tokens by `jti` (the OpenID Provider's revocation, a revoked grant or client):
   * the API refuses them at the next request on every instance.
   */
  async denylist(
    tx: Tx,
    tokens: { jti: string; userId: string; expiresAt: Date }[],
    reason: string,
  ): Promise<void> {
    const now = new Date();
    for (const t of tokens) {
      const user = await this.users.findById(t.userId, tx);
      if (!user) continue;
      const row = new AccessTokenRevocation();
      row.jti = t.jti;
      row.userId = t.userId;
      row.createdAt = now;
      row.expiresAt = new Date(t.expiresAt.getTime() + CLOCK_SKEW_SECONDS * 1000);
      await this.revocations.insert(tx, row);
      await this.audit.record(tx, {
        actorId: null,
        action: 'access_token.revoke',
        targetType: 'user',
        targetId: t.userId,
        changes: { jti: t.jti, reason },
      });
    }
    if (tokens.length) {
      await this.revocations.deleteExpired(tx, now);
      this.cache.clear();
    }
  }

  /** Logout with an access token: a grant's token revokes the grant; an exchanged token is denylisted. */
  async revokeForLogout(tx: Tx, p: Principal): Promise<void> {
    const grant = await this.grants.findLiveForUser(p.userId, p.credential.id, tx);
    if (grant) {
      await this.grants.revoke(tx, grant.id, new Date(), 'logout');
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'grant.revoke',
        targetType: 'user',
        targetId: p.userId,
        changes: { grantId: grant.id, reason: 'logout' },
      });
      return;
    }
    const row = new AccessTokenRevocation();
    row.jti = p.credential.id;
    row.userId = p.userId;
    row.createdAt = new Date();
    row.expiresAt = new Date(
      Date.now() + (this.config.accessTokenMinutes * 60 + CLOCK_SKEW_SECONDS) * 1000,
    );
    await this.revocations.deleteExpired(tx, row.createdAt);
    await this.revocations.insert(tx, row);
    await this.audit.record(tx, {
      actorId: p.userId,
      action: 'access_token.revoke',
      targetType: 'user',
      targetId: p.userId,
      changes: { jti: row.jti, reason: 'logout' },
    });
  }
}
