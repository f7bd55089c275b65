import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '#src/config/config.js';
import { failoverStreamOf, hostRing, type HostRing } from '#src/database/failover.js';

/**
 * Limits that make a hung database an error within the 5 s a request may take: opening a
 * connection, waiting for one from the pool, and any one statement. The statement limit starts
 * after the migrations (an ALTER of a large table may legitimately take minutes).
 */
export const DB_CONNECT_TIMEOUT_MS = 2000;
export const DB_ACQUIRE_TIMEOUT_MS = 1500;
export const DB_QUERY_TIMEOUT_MS = 2500;

/** Pages of write-ahead log after which a commit checkpoints (SQLite's default is 1000). */
const WAL_AUTOCHECKPOINT_PAGES = 100;

/** MariaDB Galera: "WSREP has not yet prepared node for application use" (the node is not in the primary component). */
export const ER_WSREP_NOT_READY = 1047;

type MysqlConfig = Extract<DatabaseConfig, { type: 'mysql' }>;

/** The failover ring of a URL with several hosts (null for one host: mysql2 connects directly). */
export function ringOf(db: DatabaseConfig): HostRing | null {
  if (db.type !== 'mysql' || (db.hosts?.length ?? 1) < 2) return null;
  return hostRing(db.hosts, DB_CONNECT_TIMEOUT_MS);
}

function connectTo(db: MysqlConfig): { host: string; port: number } | { stream: () => unknown } {
  const ring = ringOf(db);
  return ring ? { stream: () => ring.stream() } : { host: db.host, port: db.port };
}

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Entities and migrations are found by file name so every module adds its own without a shared list. */
export const entityGlob = join(srcDir, '**', '*.entity.js');
export const migrationGlob = join(srcDir, 'database', 'migrations', '*.js');

/**
 * MariaDB answers schema questions differently from MySQL (column defaults, for one), and TypeORM has
 * a driver for each: ask the server which it is, so a plain mysql:// URL works for both.
 */
export async function detectMysqlFlavour(db: DatabaseConfig): Promise<'mysql' | 'mariadb'> {
  if (db.type !== 'mysql') return 'mysql';
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({
    ...connectTo(db),
    user: db.user,
    password: db.password,
    connectTimeout: DB_CONNECT_TIMEOUT_MS,
  });
  try {
    const [rows] = await conn.query('SELECT VERSION() AS v');
    return /mariadb/i.test(String((rows as { v: string }[])[0]?.v)) ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

export function dataSourceOptions(
  db: DatabaseConfig,
  flavour: 'mysql' | 'mariadb' = 'mysql',
): DataSourceOptions {
  const common: {
    entities: string[];
    migrations: string[];
    migrationsTableName: string;
    synchronize: false;
    logging: false;
  } = {
    entities: [entityGlob],
    migrations: [migrationGlob],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
  };
  if (db.type === 'sqlite') {
    if (db.path !== ':memory:') mkdirSync(dirname(db.path), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: db.path,
      // WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
      // synchronous=NORMAL in WAL mode syncs the log at checkpoints, not at every commit: a
      // commit no longer blocks the event loop on an fsync (they were the longest stalls of a
      // sign-in storm); the database stays consistent through a crash, and only a power loss
      // can undo the last commits (docs/operations.md).
      // The commit that takes the log past `wal_autocheckpoint` pages copies it back into the
      // database on the event loop, in time proportional to the pages (about 10 ms for 600 here):
      // at SQLite's default of 1000 pages (about 120 sign-ins) it was the longest stall of a sign-in
      // storm. At 100 pages a checkpoint takes 2 to 3 ms; the total work barely changes.
      prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = NORMAL');
        conn.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
      },
    };
  }
  return {
    ...common,
    type: flavour,
    host: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    database: db.database,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    dateStrings: false,
    connectTimeout: DB_CONNECT_TIMEOUT_MS,
    // TypeORM's console logger prints every statement slower than maxQueryExecutionTime (that is,
    // every timed-out one) whatever `logging` says; the `debug` logger stays quiet unless asked.
    logger: 'debug',
    extra: { connectionLimit: 20, enableKeepAlive: true, ...streamOption(db) },
  };
}

/** Several hosts: every pooled connection comes from the failover ring (see failover.ts). */
function streamOption(db: MysqlConfig): { stream?: () => unknown } {
  const target = connectTo(db);
  return 'stream' in target ? { stream: target.stream } : {};
}

type QueryCallback = (err: { code?: string; errno?: number } | null, ...rest: unknown[]) => void;
interface PoolConnection {
  release(): void;
  destroy(): void;
  query(...args: unknown[]): unknown;
}
interface Mysql2Pool {
  getConnection(cb: (err: Error | null, conn?: PoolConnection) => void): void;
  on(event: 'connection', listener: (conn: PoolConnection) => void): void;
}

/**
 * Turns on the per-statement timeout and the pool acquire timeout on an initialised MySQL data
 * source (after the migrations ran). A statement that outlives DB_QUERY_TIMEOUT_MS fails with
 * PROTOCOL_SEQUENCE_TIMEOUT and its connection is destroyed (mysql2 would keep it, with every later
 * statement queued behind the one that hangs). mysql2's pool would wait for a free connection for
 * ever; a wait past DB_ACQUIRE_TIMEOUT_MS fails with POOL_ACQUIRE_TIMEOUT. The problem filter
 * answers both with 503.
 */
export function applyRuntimeLimits(dataSource: DataSource): void {
  if (dataSource.options.type !== 'mysql' && dataSource.options.type !== 'mariadb') return;
  Object.assign(dataSource.driver.options, {
    maxQueryExecutionTime: DB_QUERY_TIMEOUT_MS,
    enableQueryTimeout: true,
  });
  const pool = (dataSource.driver as unknown as { pool?: Mysql2Pool }).pool;
  if (!pool) return;

  const seen = new WeakSet<PoolConnection>();
  const mariadb = dataSource.options.type === 'mariadb';
  const guard = (conn: PoolConnection): void => {
    if (seen.has(conn)) return;
    seen.add(conn);
    if (mariadb) {
      // Galera applies a commit on the other nodes after certification, asynchronously: without
      // causality checks, a read on node B right after a commit on node A (a revocation, say) may
      // still see the old row. wsrep_sync_wait=1 makes every read wait until this node has applied
      // everything committed cluster-wide before it began. Without wsrep it changes nothing.
      conn.query('SET SESSION wsrep_sync_wait = 1', () => undefined);
    }
    const query = conn.query.bind(conn);
    conn.query = (...args: unknown[]) => {
      const i = args.findIndex((a) => typeof a === 'function');
      if (i >= 0) {
        const cb = args[i] as QueryCallback;
        args[i] = ((err, ...rest) => {
          if (err?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') conn.destroy();
          if (err?.errno === ER_WSREP_NOT_READY) {
            // This node left the cluster's primary component: drop the connection and, with
            // several hosts configured, open the next ones elsewhere.
            const stream = failoverStreamOf(conn);
            if (stream?.host) stream.ring.markDown(stream.host);
            conn.destroy();
          }
          cb(err, ...rest);
        }) satisfies QueryCallback;
      }
      return query(...args);
    };
  };
  pool.on('connection', guard);

  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (cb) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const err = new Error(`no database connection within ${DB_ACQUIRE_TIMEOUT_MS} ms`);
      cb(Object.assign(err, { code: 'POOL_ACQUIRE_TIMEOUT' }));
    }, DB_ACQUIRE_TIMEOUT_MS);
    getConnection((err, conn) => {
      if (conn) guard(conn); // connections opened before this call (migrations) too
      if (settled) {
        conn?.release(); // it came too late for its caller: back to the pool
        return;
      }
      settled = true;
      clearTimeout(timer);
      cb(err, conn);
    });
  };
}

export async function createDataSource(db: DatabaseConfig): Promise<DataSource> {
  return new DataSource(dataSourceOptions(db, await detectMysqlFlavour(db)));
}
