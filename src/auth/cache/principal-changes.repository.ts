import { Injectable } from '@nestjs/common';
import {
  DataSource,
  type EntitySubscriberInterface,
  type InsertEvent,
  type QueryRunner,
  type RemoveEvent,
  type TransactionCommitEvent,
  type UpdateEvent,
} from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { PrincipalVersion } from '#src/auth/cache/principal-version.entity.js';

/**
 * Tables whose rows make up a cached principal: status, server role, named roles and their
 * permissions; API keys, grants, access-token revocations and signing keys; and what a grant's
 * project permissions are re-intersected with (workspace, group and project memberships).
 * Sessions are not here: their revocation invalidates the user explicitly (and a login must not
 * empty every cache).
 */
export const PRINCIPAL_TABLES: ReadonlySet<string> = new Set([
  'users',
  'roles',
  'user_roles',
  'api_keys',
  'grants',
  'access_token_revocations',
  'signing_keys',
  'workspaces',
  'workspace_members',
  'projects',
  'user_groups',
  'group_members',
  'project_members',
]);
const READ_VERSION = 'SELECT version FROM principal_version WHERE id = 1';
/** The two members of better-sqlite3's handle and statement this file uses. */
interface SqliteStatement {
  /** The first column of the first row (the statement is in pluck mode), undefined when none. */
  get(): string | number | bigint | undefined;
  pluck(): SqliteStatement;
}
interface SqliteHandle {
  prepare(sql: string): SqliteStatement;
}

/** Set on a transaction that wrote a principal table: caches are emptied everywhere at commit. */
const CHANGED = 'principalDataChanged';
/** Set on a transaction that must bump principal_version before it commits. */
const BUMP = 'principalVersionBump';
/** Set once the bump has been written, until the transaction ends. */
const BUMPED = 'principalVersionBumped';

async function bumpVersion(qr: QueryRunner): Promise<void> {
  await qr.manager.getRepository(PrincipalVersion).increment({ id: 1 }, 'version', 1);
}

/**
 * Calls `changed` after every committed write to the principal tables made through TypeORM (inside a
 * transaction: at the write, without waiting, and again at commit, waited for; outside one: at
 * once), so cached principals never outlive a role change or a revocation. Every such transaction
 * also bumps principal_version just before it commits (last, so it never waits on a lock while
 * holding the counter's). Writes made with listeners off (API key `last_used_at` touches) do not
 * count.
 */
class PrincipalChangeSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly changed: () => Promise<void>,
    private readonly bumpRolledBack: () => void,
  ) {}

  private async mark(event: {
    metadata?: { tableName: string };
    queryRunner: QueryRunner;
  }): Promise<void> {
    if (!event.metadata || !PRINCIPAL_TABLES.has(event.metadata.tableName)) return;
    if (event.queryRunner.isTransactionActive) {
      const data = event.queryRunner.data as Record<string, unknown>;
      data[CHANGED] = true;
      data[BUMP] = true;
      void this.changed();
      return;
    }
    await bumpVersion(event.queryRunner);
    await this.changed();
  }

  afterInsert(event: InsertEvent<unknown>): Promise<void> {
    return this.mark(event);
  }
  afterUpdate(event: UpdateEvent<unknown>): Promise<void> {
    return this.mark(event);
  }
  afterRemove(event: RemoveEvent<unknown>): Promise<void> {
    return this.mark(event);
  }
  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const data = event.queryRunner.data as Record<string, unknown>;
    if (data[BUMP]) {
      delete data[BUMP];
      data[BUMPED] = true;
      await bumpVersion(event.queryRunner);
    }
  }
  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const data = event.queryRunner.data as Record<string, unknown>;
    delete data[BUMPED];
    if (data[CHANGED]) {
      delete data[CHANGED];
      // Never throws: the transaction has committed.
      await this.changed();
    }
  }
  afterTransactionRollback(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown>;
    // On SQLite's one connection another request may have read the bump before it was undone.
    if (data[BUMPED]) this.bumpRolledBack();
    delete data[CHANGED];
    delete data[BUMP];
    delete data[BUMPED];
  }
}

@Injectable()
export class PrincipalChangesRepository {
  /** True when the read runs synchronously (SQLite): nothing is ever in flight to share. */
  readonly readsSynchronously: boolean;
  /** True when no other process can share the database (in-memory SQLite). */
  readonly databaseIsPrivate: boolean;

  // Both asked on every cached request: decided once, from the data source's options.
  constructor(private readonly dataSource: DataSource) {
    const o = dataSource.options;
    this.readsSynchronously = o.type === 'better-sqlite3';
    this.databaseIsPrivate = o.type === 'better-sqlite3' && o.database === ':memory:';
  }

  /**
   * Registers callbacks for committed changes to the principal tables (`changed`, which must not
   * throw) and for a transaction rolled back after it had bumped principal_version.
   */
  onPrincipalDataChanged(changed: () => Promise<void>, bumpRolledBack: () => void): void {
    this.dataSource.subscribers.push(new PrincipalChangeSubscriber(changed, bumpRolledBack));
  }

  /** Bumps principal_version when `tx` commits (at once when it is not a transaction). */
  async bumpVersionAtCommit(tx: Tx): Promise<void> {
    const qr = tx.queryRunner;
    if (qr?.isTransactionActive) (qr.data as Record<string, unknown>)[BUMP] = true;
    else await tx.getRepository(PrincipalVersion).increment({ id: 1 }, 'version', 1);
  }

  /** The hot path when no Redis vouches for the caches: one primary-key read. */
  async readVersion(): Promise<string> {
    let version: string | number | bigint | undefined;
    if (this.readsSynchronously) version = this.sqliteStatement().get();
    else {
      const rows: { version: string | number }[] = await this.dataSource.query(READ_VERSION);
      version = rows[0]?.version;
    }
    if (version === undefined) throw new Error('principal_version row missing: migrations not run');
    return String(version);
  }

  /**
   * On SQLite the read is made on better-sqlite3's handle with one prepared statement: it runs on
   * every cached request without Redis, and TypeORM's path (a query runner, the statement prepared
   * again each time) cost more than the request's own work (docs/performance.md).
   */
  private sqliteStatement(): SqliteStatement {
    if (!this.statement) {
      const handle = (this.dataSource.driver as unknown as { databaseConnection: SqliteHandle })
        .databaseConnection;
      // The value alone, no row object (a third cheaper than all() in a loop of reads).
      this.statement = handle.prepare(READ_VERSION).pluck();
    }
    return this.statement;
  }
  private statement: SqliteStatement | null = null;
}
