import { Injectable } from '@nestjs/common';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { permits } from '#src/kernel/permissions.js';
import { generateToken, sha256Hex } from '#src/crypto/tokens.js';
import { AuditService } from '#src/audit/audit.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { UsersService } from '#src/users/users.service.js';
import {
  Grant,
  type GrantType,
  type ProjectPermissionGrant,
} from '#src/credentials/entities/grant.entity.js';
import { RefreshToken } from '#src/credentials/entities/refresh-token.entity.js';
import { assertMayMint, ownerId } from '#src/credentials/owner.js';
import { GrantsRepository } from '#src/credentials/grants/grants.repository.js';
import { OnUserEvent, type UserEvents } from '#src/kernel/events.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';

export const REFRESH_TOKEN_PREFIX = 'gthr_';

export interface GrantResponse {
  id: string;
  type: GrantType;
  forClientId: string | null;
  projectPermissions: ProjectPermissionGrant[] | null;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

export function toGrantResponse(g: Grant): GrantResponse {
  return {
    id: g.id,
    type: g.type,
    forClientId: g.forClientId,
    projectPermissions: g.projectPermissions,
    createdAt: g.createdAt.toISOString(),
    expiresAt: g.expiresAt.toISOString(),
    lastUsedAt: g.lastUsedAt?.toISOString() ?? null,
  };
}

/** Grants: long-lived refresh-token families for a user or a service, optionally narrowed to projects. */
@Injectable()
export class GrantsService {
  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly repo: GrantsRepository,
    private readonly users: UsersService,
    private readonly catalogue: PermissionCatalogue,
    private readonly audit: AuditService,
    private readonly projects: AccessService,
    private readonly mfa: MfaService,
  ) {}

  // Like API keys: a reset or a claimed account ends every grant; the owner's own change keeps them.
  @OnUserEvent('user.credentials-changed')
  async onCredentialsChanged(tx: Tx, e: UserEvents['user.credentials-changed']): Promise<void> {
    if (e.keepSessionId === null) await this.revokeAllForUser(tx, e.userId, 'credentials_reset');
  }

  @OnUserEvent('user.disabled')
  async onDisabled(tx: Tx, e: UserEvents['user.disabled']): Promise<void> {
    await this.revokeAllForUser(tx, e.userId, 'user_disabled');
  }

  async create(
    p: Principal,
    id: string,
    input: {
      type: GrantType;
      forClientId?: string;
      projectPermissions?: { projectId: string; permissions: string[] }[];
    },
  ): Promise<GrantResponse & { refreshToken: string }> {
    const userId = ownerId(p, id);
    const owner = await this.users.requireUser(userId);
    assertMayMint(p, userId);
    // A grant for oneself outlives the session: a recent sign-in first.
    if (userId === p.userId) await this.mfa.requireRecentSignIn(p);
    const narrowing = input.projectPermissions
      ? await this.checkProjectPermissions(owner.id, input.projectPermissions)
      : null;
    const now = new Date();
    const grant = new Grant();
    grant.id = newId();
    grant.userId = owner.id;
    grant.type = input.type;
    grant.forClientId = input.forClientId?.trim() || null;
    grant.projectPermissions = narrowing;
    grant.createdAt = now;
    grant.expiresAt = new Date(now.getTime() + this.config.refreshFamilyDays * 86_400_000);
    grant.lastUsedAt = null;
    grant.revokedAt = null;
    grant.revokedReason = null;
    const refreshToken = await this.db.transaction(async (tx) => {
      await this.repo.insert(tx, grant);
      const token = await this.issueRefreshToken(tx, grant.id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'grant.create',
        targetType: 'user',
        targetId: owner.id,
        changes: {
          grantId: grant.id,
          type: grant.type,
          forClientId: grant.forClientId,
          projectPermissions: narrowing,
          expiresAt: grant.expiresAt.toISOString(),
        },
      });
      return token;
    });
    return { ...toGrantResponse(grant), refreshToken };
  }

  /** Known permissions only (400), and never more than the owner holds in that project now (422). */
  private async checkProjectPermissions(
    userId: string,
    entries: { projectId: string; permissions: string[] }[],
  ): Promise<ProjectPermissionGrant[]> {
    const ids = entries.map((e) => e.projectId);
    if (new Set(ids).size !== ids.length)
      throw AppException.invalid('projectPermissions', 'names a project more than once');
    const unknown = [...new Set(entries.flatMap((e) => e.permissions))].filter(
      (perm) => !this.catalogue.isKnown(perm),
    );
    if (unknown.length)
      throw AppException.invalid(
        'projectPermissions',
        `unknown permission(s): ${unknown.join(', ')}`,
      );
    const held = await this.projects.permissionsByProject(userId, ids);
    const beyond = entries.flatMap((e) =>
      e.permissions
        .filter((perm) => !permits(held[e.projectId] ?? [], perm))
        .map((perm) => `${e.projectId}: ${perm}`),
    );
    if (beyond.length) {
      throw AppException.rule(
        'grant_exceeds_owner',
        `A grant cannot carry more than its owner holds; the owner lacks ${beyond.join('; ')}.`,
        'projectPermissions',
      );
    }
    return entries.map((e) => ({
      projectId: e.projectId,
      permissions: [...new Set(e.permissions)].sort(),
    }));
  }

  async issueRefreshToken(tx: Tx, grantId: string): Promise<string> {
    const token = generateToken(REFRESH_TOKEN_PREFIX);
    const row = new RefreshToken();
    row.id = newId();
    row.grantId = grantId;
    row.tokenHash = sha256Hex(token);
    row.createdAt = new Date();
    row.consumedAt = null;
    await this.repo.insertRefreshToken(tx, row);
    return token;
  }

  async list(
    p: Principal,
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<GrantResponse>> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    const after = decodeCursor(cursor, 2) as [string, string] | null;
    const rows = await this.repo.listForUser(userId, after, limit + 1);
    return toPage(rows, limit, (g) => [g.createdAt.toISOString(), g.id], toGrantResponse);
  }

  async revoke(p: Principal, id: string, grantId: string): Promise<void> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    const done = await this.db.transaction(async (tx) => {
      const grant = await this.repo.findLiveForUser(userId, grantId, tx);
      if (!grant || !(await this.repo.revoke(tx, grant.id, new Date(), 'revoked'))) return false;
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'grant.revoke',
        targetType: 'user',
        targetId: userId,
        changes: { grantId: grant.id, reason: 'revoked' },
      });
      return true;
    });
    if (!done) throw AppException.notFound('Grant');
  }

  async revokeFamily(tx: Tx, grant: Grant, reason: string): Promise<void> {
    if (await this.repo.revoke(tx, grant.id, new Date(), reason)) {
      await this.audit.record(tx, {
        actorId: null,
        action: 'grant.revoke',
        targetType: 'user',
        targetId: grant.userId,
        changes: { grantId: grant.id, reason },
      });
    }
  }

  private async revokeAllForUser(tx: Tx, userId: string, reason: string): Promise<void> {
    const ids = await this.repo.revokeAllForUser(tx, userId, new Date(), reason);
    if (ids.length) {
      await this.audit.record(tx, {
        actorId: null,
        action: 'grant.revoke_all',
        targetType: 'user',
        targetId: userId,
        changes: { grantIds: ids, reason },
      });
    }
  }
}
