import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type EntityManager } from 'typeorm';
import { applyRuntimeLimits } from '#src/database/data-source.js';

/** The handle a service passes to repositories so several writes share one transaction. */
export type Tx = EntityManager;

/**
 * Attempts of one unit of work that keeps losing to a deadlock, a lock wait timeout or (on a
 * Galera cluster) a certification conflict. Every audited write updates the audit chain's head
 * row, so on a cluster concurrent audited writes on different nodes conflict at commit: enough
 * attempts that a burst of them all gets through (docs/scaling.md has the figures).
 */
export const TRANSACTION_ATTEMPTS = 8;

/**
 * Transactions for services. On MySQL/MariaDB a transaction chosen as a deadlock victim (errno
 * 1213), one whose lock wait timed out (1205), one that lost a Galera certification conflict at
 * commit (also 1213: another node committed a write to the same rows first) or one that met a
 * Galera node outside the primary component (1047, "WSREP has not yet prepared node") was rolled
 * back as a whole by the server, so the whole unit of work runs again after a jittered pause, up
 * to TRANSACTION_ATTEMPTS times (1047 at most WSREP_NOT_READY_ATTEMPTS times, then 503).
 * The work must therefore only touch the database through `tx` and keep effects outside it (mail,
 * in-memory state) until after the transaction returns. SQLite has one connection: transactions
 * there are queued so two concurrent requests never nest BEGINs on it (and so never deadlock).
 */
@Injectable()
export class Database {
  private readonly logger = new Logger('Database');
  private sqliteQueue: Promise<unknown> = Promise.resolve();

  // Injected once TypeORM has initialised the data source and run the migrations.
  constructor(readonly dataSource: DataSource) {
    applyRuntimeLimits(dataSource);
  }

  get isSqlite(): boolean {
    return this.dataSource.options.type === 'better-sqlite3';
  }

  get manager(): Tx {
    return this.dataSource.manager;
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.isSqlite) {
      const run = this.sqliteQueue.then(() => this.dataSource.transaction(work));
      this.sqliteQueue = run.catch(() => undefined);
      return run;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
      } catch (err) {
        const notReady = isNodeNotReady(err);
        if (!notReady && !isTransientConflict(err)) throw err;
        if (attempt >= (notReady ? WSREP_NOT_READY_ATTEMPTS : TRANSACTION_ATTEMPTS)) throw err;
        this.logger.debug({
          msg: 'transaction retried',
          attempt,
          error: (err as Error).message,
        });
        await sleep(retryDelayMs(attempt));
      }
    }
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /**
   * MariaDB Galera status of the node this pool uses (wsrep_* status variables, lower-cased
   * names), or null on SQLite, on a server without wsrep, or when it does not answer in `timeoutMs`.
   */
  async galeraStatus(timeoutMs: number): Promise<Record<string, string> | null> {
    if (this.isSqlite) return null;
    const rows = await Promise.race([
      this.dataSource.query<{ Variable_name: string; Value: string }[]>(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_incoming_addresses')",
      ),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref()),
    ]).catch(() => null);
    if (rows === null) return null;
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    return v.wsrep_ready === undefined || v.wsrep_cluster_status === 'Disconnected' ? null : v;
  }
}

/** Attempts on a node outside the primary component (its pool connection is replaced each time). */
export const WSREP_NOT_READY_ATTEMPTS = 3;

/**
 * 10, 20, 40, … ms ceilings capped at 250 ms, each drawn uniformly ("full jitter") so the losers
 * spread out; all TRANSACTION_ATTEMPTS together wait at most about a second.
 */
export function retryDelayMs(attempt: number): number {
  return Math.random() * Math.min(250, 10 * 2 ** (attempt - 1));
}

function errnoOf(err: unknown): number | undefined {
  const e = err as { errno?: number; driverError?: { errno?: number } } | null;
  return e?.driverError?.errno ?? e?.errno;
}

/** Galera: the node is not in the primary component (ER_UNKNOWN_COM_ERROR, 1047). */
export function isNodeNotReady(err: unknown): boolean {
  return errnoOf(err) === 1047;
}

/** MySQL/MariaDB: deadlock or Galera certification conflict (ER_LOCK_DEADLOCK, 1213), or lock wait timeout (ER_LOCK_WAIT_TIMEOUT, 1205). */
export function isTransientConflict(err: unknown): boolean {
  const errno = errnoOf(err);
  return errno === 1213 || errno === 1205;
}

/** True for a unique-constraint violation on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as {
    code?: string;
    errno?: number;
    driverError?: { code?: string; errno?: number };
  };
  const code = e.driverError?.code ?? e.code;
  return (
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
