import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database, Tx } from '#src/database/database.service.js';
import type { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';
import { OidcPayload } from '#src/provider/entities/oidc-payload.entity.js';
import type { OidcPayloadsRepository } from '#src/provider/oidc-payloads.repository.js';

/** Models whose tokens the Gatehouse API also accepts (JWT access tokens, denylisted on revocation). */
export const ACCESS_TOKEN_MODELS = ['AccessToken', 'ClientCredentials'];
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// Expired rows are deleted by the writes that follow, at most this often.
const CLEANUP_EVERY_MS = 60_000;

export interface AdapterDeps {
  repo: OidcPayloadsRepository;
  db: Database;
  tokens: AccessTokensService;
  /** The registry's metadata for a client id (the provider's Client model). */
  findClient(id: string): Promise<AdapterPayload | undefined>;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** The row's account: the person, or for a client_credentials token the service account (= client id). */
function accountOf(model: string, p: AdapterPayload): string | null {
  return str(p.accountId) ?? (model === 'ClientCredentials' ? str(p.clientId) : null);
}

/**
 * oidc-provider's storage on Gatehouse's database (MySQL and SQLite through TypeORM): one table keyed
 * by model and id. Clients come from the registry (`oauth_clients`), not from this table.
 */
export function adapterClass(deps: AdapterDeps): new (model: string) => Adapter {
  let lastCleanup = 0;
  const repo = deps.repo;

  async function denylistRows(tx: Tx, rows: OidcPayload[], reason: string): Promise<void> {
    const tokens = rows
      .filter((r) => ACCESS_TOKEN_MODELS.includes(r.model) && r.accountId && r.expiresAt)
      .filter((r) => (r.expiresAt as Date).getTime() > Date.now())
      .map((r) => ({ jti: r.id, userId: r.accountId as string, expiresAt: r.expiresAt as Date }));
    await deps.tokens.denylist(tx, tokens, reason);
  }

  return class TypeOrmAdapter implements Adapter {
    constructor(readonly model: string) {}

    private async cleanup(): Promise<void> {
      if (Date.now() - lastCleanup < CLEANUP_EVERY_MS) return;
      lastCleanup = Date.now();
      await repo.deleteExpired(new Date());
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const row = new OidcPayload();
      row.model = this.model;
      row.id = id;
      row.payload = JSON.stringify(payload);
      row.grantId = str(payload.grantId);
      row.userCode = str(payload.userCode);
      row.uid = str(payload.uid);
      row.clientId = str(payload.clientId)?.slice(0, 36) ?? null;
      row.accountId = accountOf(this.model, payload)?.slice(0, 36) ?? null;
      row.expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      row.consumedAt = null;
      await repo.upsert(row);
      await this.cleanup();
    }

    private async load(where: {
      id?: string;
      userCode?: string;
      uid?: string;
    }): Promise<AdapterPayload | undefined> {
      const row = await repo.findOne(this.model, where);
      if (!row) return undefined;
      if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      return row.consumedAt
        ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) }
        : payload;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return deps.findClient(id);
      if (ACCESS_TOKEN_MODELS.includes(this.model) && JWT_SHAPE.test(id)) {
        // A JWT access token (introspection, revocation): ours only if our keys signed it.
        const claims = await deps.tokens.verify(id);
        if (!claims) return undefined;
        return this.load({ id: claims.jti });
      }
      if (id.length > 128) return undefined;
      return this.load({ id });
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.load({ userCode });
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.load({ uid });
    }

    async consume(id: string): Promise<void> {
      await repo.consume(this.model, id, new Date());
    }

    async destroy(id: string): Promise<void> {
      await deps.db.transaction(async (tx) => {
        const rows = await repo.find(tx, this.model, id);
        await denylistRows(tx, rows, 'revoked');
        await repo.delete(tx, this.model, id);
      });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await deps.db.transaction(async (tx) => {
        const rows = await repo.findByGrant(tx, this.model, grantId);
        await denylistRows(tx, rows, 'grant_revoked');
        await repo.deleteByGrant(tx, this.model, grantId);
      });
    }
  };
}

/** Ends everything a client holds (its deletion): tokens denylisted, rows removed. */
export async function revokeClientRows(
  tx: Tx,
  repo: OidcPayloadsRepository,
  tokens: AccessTokensService,
  clientId: string,
): Promise<void> {
  const rows = await repo.findByClient(tx, clientId);
  const live = rows.filter(
    (r) =>
      ACCESS_TOKEN_MODELS.includes(r.model) &&
      r.accountId &&
      r.expiresAt &&
      r.expiresAt.getTime() > Date.now(),
  );
  await tokens.denylist(
    tx,
    live.map((r) => ({
      jti: r.id,
      userId: r.accountId as string,
      expiresAt: r.expiresAt as Date,
    })),
    'client_deleted',
  );
  const grantIds = [...new Set(rows.map((r) => r.grantId).filter((g): g is string => !!g))];
  await repo.deleteForClient(tx, clientId, grantIds);
}
