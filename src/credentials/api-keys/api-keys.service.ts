import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { permits } from '#src/kernel/permissions.js';
import {
  generateToken,
  hasTokenShape,
  isWellFormedToken,
  sha256Hex,
  visiblePrefix,
} from '#src/crypto/tokens.js';
import { AuditService } from '#src/audit/audit.service.js';
import {
  ResolvesCredentials,
  type CredentialResolver,
  type Resolved,
} from '#src/kernel/credential-registry.js';
import { withCredential, type Principal } from '#src/kernel/principal.js';
import { CredentialCache } from '#src/auth/cache/credential-cache.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { UsersService } from '#src/users/users.service.js';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';
import { FailureAudit } from '#src/credentials/failure-audit.js';
import { assertMayMint, ownerId, parseFutureDate } from '#src/credentials/owner.js';
import { ApiKeysRepository } from '#src/credentials/api-keys/api-keys.repository.js';
import { OnUserEvent, type UserEvents } from '#src/kernel/events.js';
import { PrincipalChanges } from '#src/auth/cache/principal-changes.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';

export const API_KEY_PREFIX = 'gth_';
const TOUCH_EVERY_MS = 60_000;
/** Key lookups are cached this long (revocation, owner and role changes invalidate at once). */
export const API_KEY_CACHE_TTL_MS = 2_000;
const API_KEY_CACHE_MAX = 10_000;
const API_KEY_CACHE_BYPASS_MS = 10_000;

interface CachedKey {
  keyId: string;
  userId: string;
  expiresAt: number | null;
  lastUsedAt: number | null;
  principal: Omit<Principal, 'credential'>;
  cachedAt: number;
}

export interface ApiKeyResponse {
  id: string;
  name: string;
  prefix: string;
  scopes: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export function toApiKeyResponse(k: ApiKey): ApiKeyResponse {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  };
}

/** API keys: `gth_` + 32 random bytes + CRC32, SHA-256 at rest, accepted only in the Authorization header. */
@Injectable()
@ResolvesCredentials()
export class ApiKeysService implements CredentialResolver {
  readonly kind = 'api_key';
  // Revoking a key writes api_keys, which empties the cache at the write and at commit.
  readonly cache = new CredentialCache<CachedKey>(
    API_KEY_CACHE_TTL_MS,
    API_KEY_CACHE_MAX,
    API_KEY_CACHE_BYPASS_MS,
  );

  constructor(
    private readonly db: Database,
    private readonly repo: ApiKeysRepository,
    private readonly users: UsersService,
    private readonly catalogue: PermissionCatalogue,
    private readonly audit: AuditService,
    private readonly failures: FailureAudit,
    private readonly changes: PrincipalChanges,
    private readonly mfa: MfaService,
  ) {}

  /** Logout with a key revokes that key. */
  async revokeForLogout(tx: Tx, p: Principal): Promise<void> {
    await this.revokeOne(tx, p.credential.id, p.userId, p.userId);
  }

  // Password reset (no session kept) or a claimed account: every key goes. A password change by the
  // signed-in owner keeps their keys (they belong to services, not to the browser).
  @OnUserEvent('user.credentials-changed')
  async onCredentialsChanged(tx: Tx, e: UserEvents['user.credentials-changed']): Promise<void> {
    if (e.keepSessionId === null) await this.revokeAllForUser(tx, e.userId, 'credentials reset');
  }

  @OnUserEvent('user.disabled')
  async onDisabled(tx: Tx, e: UserEvents['user.disabled']): Promise<void> {
    await this.revokeAllForUser(tx, e.userId, 'user disabled');
  }

  async create(
    p: Principal,
    id: string,
    input: { name: string; expiresAt?: string; scopes?: string[] },
  ): Promise<ApiKeyResponse & { key: string }> {
    const userId = ownerId(p, id);
    const owner = await this.users.requireUser(userId);
    assertMayMint(p, userId);
    // A key for oneself is a credential that outlives the session: a recent sign-in first.
    if (userId === p.userId) await this.mfa.requireRecentSignIn(p);
    const expiresAt = parseFutureDate('expiresAt', input.expiresAt);
    const scopes = input.scopes ? await this.checkScopes(owner.id, input.scopes) : null;
    const key = generateToken(API_KEY_PREFIX);
    const row = new ApiKey();
    row.id = newId();
    row.userId = owner.id;
    row.name = input.name.trim();
    row.prefix = visiblePrefix(key, API_KEY_PREFIX);
    row.keyHash = sha256Hex(key);
    row.scopes = scopes;
    row.expiresAt = expiresAt;
    row.lastUsedAt = null;
    row.createdAt = new Date();
    row.revokedAt = null;
    await this.db.transaction(async (tx) => {
      await this.repo.insert(tx, row);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'api_key.create',
        targetType: 'user',
        targetId: owner.id,
        changes: {
          apiKeyId: row.id,
          name: row.name,
          prefix: row.prefix,
          scopes,
          expiresAt: expiresAt?.toISOString() ?? null,
        },
      });
    });
    return { ...toApiKeyResponse(row), key };
  }

  /**
   * Scopes must be known permissions; a scope naming only server permissions must be one the owner
   * holds now (a key never claims more than its owner). Project permissions are checked per request.
   */
  private async checkScopes(userId: string, scopes: string[]): Promise<string[]> {
    const unique = [...new Set(scopes.map((s) => s.trim()))];
    // A scope narrows the owner's access; `*` would narrow nothing (a key without scopes does that).
    if (unique.includes('*')) {
      throw AppException.rule(
        'scope_not_narrowing',
        "The scope * narrows nothing: omit scopes for a key with all of its owner's permissions.",
        'scopes',
      );
    }
    const unknown = unique.filter((s) => !this.catalogue.isKnown(s));
    if (unknown.length)
      throw AppException.invalid('scopes', `unknown permission(s): ${unknown.join(', ')}`);
    const owner = await this.users.principalFor(await this.users.requireUser(userId), {
      kind: 'session',
      id: '',
      via: 'header',
    });
    const types = this.catalogue.list();
    const beyond = unique.filter((s) => {
      const matched = types.filter((t) => permits([s], t.name));
      const serverOnly = matched.every((t) => t.scope === 'server');
      return serverOnly && !matched.some((t) => permits(owner.permissions, t.name));
    });
    if (beyond.length) {
      throw AppException.rule(
        'scope_exceeds_owner',
        `The owner does not hold: ${beyond.join(', ')}.`,
        'scopes',
      );
    }
    return unique;
  }

  async list(
    p: Principal,
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ApiKeyResponse>> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    const after = decodeCursor(cursor, 2) as [string, string] | null;
    const rows = await this.repo.listForUser(userId, after, limit + 1);
    return toPage(rows, limit, (k) => [k.createdAt.toISOString(), k.id], toApiKeyResponse);
  }

  async revoke(p: Principal, id: string, keyId: string): Promise<void> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    const done = await this.db.transaction((tx) => this.revokeOne(tx, keyId, userId, p.userId));
    if (!done) throw AppException.notFound('API key');
  }

  private async revokeOne(
    tx: Tx,
    keyId: string,
    userId: string,
    actorId: string,
  ): Promise<boolean> {
    const key = await this.repo.findLiveForUser(userId, keyId, tx);
    if (!key || !(await this.repo.revoke(tx, key.id, new Date()))) return false;
    await this.audit.record(tx, {
      actorId,
      action: 'api_key.revoke',
      targetType: 'user',
      targetId: userId,
      changes: { apiKeyId: key.id, prefix: key.prefix },
    });
    return true;
  }

  private async revokeAllForUser(tx: Tx, userId: string, reason: string): Promise<void> {
    const ids = await this.repo.revokeAllForUser(tx, userId, new Date());
    if (ids.length) {
      await this.audit.record(tx, {
        actorId: null,
        action: 'api_key.revoke_all',
        targetType: 'user',
        targetId: userId,
        changes: { apiKeyIds: ids, reason },
      });
    }
  }

  // --- CredentialResolver: the guard's hot path ---

  /** The prefix and length of a key; the checksum is `resolve`'s to check. */
  accepts(token: string): boolean {
    return hasTokenShape(token, API_KEY_PREFIX);
  }

  resolve(token: string, via: 'header' | 'cookie', requestId?: string): Resolved {
    if (via !== 'header') return null;
    const keyHash = sha256Hex(token);
    // A mistyped or forged key (its CRC32 checksum fails) never reaches the database. A key the
    // cache holds passed that check when it was cached: a cache hit skips it.
    if (!this.cache.holds(keyHash) && !isWellFormedToken(token, API_KEY_PREFIX)) return null;
    // Other instances' revocations first (see PrincipalChanges).
    return this.changes.whenCaughtUp(() => this.resolveHash(token, keyHash, via, requestId));
  }

  /** From the cache when it holds the key (synchronously unless it is time to touch it). */
  private resolveHash(
    token: string,
    keyHash: string,
    via: 'header' | 'cookie',
    requestId: string | undefined,
  ): Resolved {
    const now = Date.now();
    const cached = this.cache.get(keyHash, now);
    // An expired key goes the long way, so its refusal is audited.
    if (!cached || (cached.expiresAt !== null && cached.expiresAt <= now))
      return this.resolveUncached(token, keyHash, via, now, requestId);
    const principal = withCredential(cached.principal, { kind: 'api_key', id: cached.keyId, via });
    if (cached.lastUsedAt !== null && now - cached.lastUsedAt <= TOUCH_EVERY_MS) return principal;
    cached.lastUsedAt = now;
    return this.touch(cached.keyId, now).then(() => principal);
  }

  private async resolveUncached(
    token: string,
    keyHash: string,
    via: 'header' | 'cookie',
    now: number,
    requestId: string | undefined,
  ): Promise<Principal | null> {
    const generation = this.cache.generation;
    const found = await this.repo.findByHash(keyHash);
    if (!found) {
      this.failures.unknown('api_key', visiblePrefix(token, API_KEY_PREFIX), requestId);
      return null;
    }
    const { key, user } = found;
    const reason =
      key.revokedAt !== null
        ? 'revoked'
        : key.expiresAt !== null && key.expiresAt.getTime() <= now
          ? 'expired'
          : user.status !== 'active'
            ? `owner_${user.status}`
            : null;
    if (reason !== null) {
      await this.failures.record({
        action: 'api_key.use_refused',
        userId: user.id,
        credentialId: key.id,
        reason,
        requestId,
      });
      return null;
    }
    let lastUsedAt = key.lastUsedAt?.getTime() ?? null;
    if (lastUsedAt === null || now - lastUsedAt > TOUCH_EVERY_MS) {
      lastUsedAt = now;
      await this.touch(key.id, now);
    }
    const principal = await this.users.principalFor(
      user,
      { kind: 'api_key', id: key.id, via },
      { scopes: key.scopes },
    );
    const { credential: _credential, ...rest } = principal;
    this.cache.set(
      keyHash,
      {
        keyId: key.id,
        userId: user.id,
        expiresAt: key.expiresAt?.getTime() ?? null,
        lastUsedAt,
        principal: rest,
        cachedAt: Date.now(),
      },
      now,
      generation,
    );
    return principal;
  }

  private async touch(keyId: string, now: number): Promise<void> {
    await this.db.transaction((tx) =>
      this.repo.touch(tx, keyId, new Date(now), new Date(now - TOUCH_EVERY_MS)),
    );
  }
}
