import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type EntityManager } from 'typeorm';
import { applyRuntimeLimits } from '#src/database/data-source.js';

/** The handle a service passes to repositories so several writes share one transaction. */
export type Tx = EntityManager;

/** Attempts of one unit of work that keeps losing to a deadlock or lock wait timeout. */
export const TRANSACTION_ATTEMPTS = 5;

/**
 * Transactions for services. On MySQL/MariaDB a transaction chosen as a deadlock victim (errno
 * 1213) or one whose lock wait timed out (1205) was rolled back as a whole by the server, so the
 * whole unit of work runs again after a short jittered pause, up to TRANSACTION_ATTEMPTS times.
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
        if (attempt >= TRANSACTION_ATTEMPTS || !isTransientConflict(err)) throw err;
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
}

/** 10, 20, 40, 80 ms ceilings, each drawn uniformly ("full jitter") so the losers spread out. */
export function retryDelayMs(attempt: number): number {
  return Math.random() * 10 * 2 ** (attempt - 1);
}

/** MySQL/MariaDB: deadlock (ER_LOCK_DEADLOCK, 1213) or lock wait timeout (ER_LOCK_WAIT_TIMEOUT, 1205). */
export function isTransientConflict(err: unknown): boolean {
  const e = err as { errno?: number; driverError?: { errno?: number } } | null;
  const errno = e?.driverError?.errno ?? e?.errno;
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
