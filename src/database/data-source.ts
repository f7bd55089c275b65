import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '#src/config/config.js';

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
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    connectTimeout: 5000,
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
      prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
        conn.pragma('journal_mode = WAL');
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
    extra: { connectionLimit: 20 },
  };
}

export async function createDataSource(db: DatabaseConfig): Promise<DataSource> {
  return new DataSource(dataSourceOptions(db, await detectMysqlFlavour(db)));
}
