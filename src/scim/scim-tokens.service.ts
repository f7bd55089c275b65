import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { generateToken, isWellFormedToken, sha256Hex, visiblePrefix } from '#src/crypto/tokens.js';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import type { Principal } from '#src/kernel/principal.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import type { CreatedScimTokenResponse, ScimTokenResponse } from '#src/scim/dto/scim-tokens.dto.js';
import { ScimToken } from '#src/scim/scim-token.entity.js';
import { ScimTokensRepository } from '#src/scim/scim-tokens.repository.js';

/** `gths_` + 32 random bytes + CRC32: distinct from API keys so a leaked one is easy to tell. */
export const SCIM_TOKEN_PREFIX = 'gths_';
const TOUCH_EVERY_MS = 60_000;

/** The workspace a SCIM request acts on, and the token (the audit actor) it came with. */
export interface ScimContext {
  tokenId: string;
  workspaceId: string;
}

function toResponse(t: ScimToken): ScimTokenResponse {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class ScimTokensService {
  constructor(
    private readonly db: Database,
    private readonly repo: ScimTokensRepository,
    private readonly access: AccessService,
    private readonly audit: AuditService,
  ) {}

  async create(p: Principal, domain: string, name: string): Promise<CreatedScimTokenResponse> {
    const token = generateToken(SCIM_TOKEN_PREFIX);
    const id = await this.db.transaction(async (tx) => {
      const a = await this.access.workspace(p, { domain }, 'admin', { tx, lock: true });
      const t = new ScimToken();
      t.id = newId();
      t.workspaceId = a.workspace.id;
      t.name = name.trim();
      t.prefix = visiblePrefix(token, SCIM_TOKEN_PREFIX);
      t.tokenHash = sha256Hex(token);
      t.createdBy = p.userId;
      t.createdAt = new Date();
      t.lastUsedAt = null;
      await this.repo.insert(tx, t);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'scim_token.create',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { scimTokenId: t.id, name: t.name, prefix: t.prefix },
      });
      return t.id;
    });
    return { id, token };
  }

  async list(
    p: Principal,
    domain: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ScimTokenResponse>> {
    const a = await this.access.workspace(p, { domain }, 'admin');
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await this.repo.list(
      a.workspace.id,
      after === undefined ? null : String(after),
      limit + 1,
    );
    return toPage(rows, limit, (t) => [t.id], toResponse);
  }

  async revoke(p: Principal, domain: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const a = await this.access.workspace(p, { domain }, 'admin', { tx, lock: true });
      const t = await this.repo.findInWorkspace(tx, a.workspace.id, id);
      if (!t) throw AppException.notFound('SCIM token');
      await this.repo.delete(tx, t.id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'scim_token.revoke',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { scimTokenId: t.id, name: t.name, prefix: t.prefix },
      });
    });
  }

  /**
   * The workspace a bearer token acts for, or null (malformed, unknown or revoked). Not cached: a
   * revoked token stops at the next request on every instance.
   */
  async resolve(token: string): Promise<ScimContext | null> {
    if (!isWellFormedToken(token, SCIM_TOKEN_PREFIX)) return null;
    const t = await this.repo.findByHash(sha256Hex(token));
    if (!t) return null;
    const now = new Date();
    if (!t.lastUsedAt || now.getTime() - t.lastUsedAt.getTime() > TOUCH_EVERY_MS)
      await this.repo.touch(t.id, now);
    return { tokenId: t.id, workspaceId: t.workspaceId };
  }
}
