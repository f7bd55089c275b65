import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql } from '../support/database.js';

/**
 * MariaDB Galera replicates rows by primary key: a table without one is replicated inefficiently
 * and can diverge between nodes (and DELETE on it is not certified). Every table Gatehouse creates,
 * the migrations table included, has one, on the database the suite runs on.
 */
describe('primary keys (Galera needs one on every table)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('every entity declares a primary key', () => {
    const without = t.db.entityMetadatas
      .filter((m) => m.primaryColumns.length === 0)
      .map((m) => m.tableName);
    assert.deepEqual(without, []);
    assert.ok(t.db.entityMetadatas.length > 10);
  });

  it('every table in the database has a primary key', async () => {
    let tables: string[];
    let without: string[];
    if (isMysql()) {
      const rows = await t.db.query<{ name: string; pk: number | string }[]>(
        `SELECT t.TABLE_NAME AS name,
                (SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS c
                  WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
                    AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS pk
           FROM information_schema.TABLES t
          WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'`,
      );
      tables = rows.map((r) => r.name);
      without = rows.filter((r) => Number(r.pk) === 0).map((r) => r.name);
    } else {
      const rows = await t.db.query<{ name: string }[]>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
      );
      tables = rows.map((r) => r.name);
      without = [];
      for (const name of tables) {
        const cols = await t.db.query<{ pk: number }[]>(`PRAGMA table_info("${name}")`);
        if (!cols.some((c) => c.pk > 0)) without.push(name);
      }
    }
    assert.ok(tables.includes('users') && tables.includes('migrations'), tables.join(', '));
    assert.deepEqual(without, [], `tables without a primary key: ${without.join(', ')}`);
  });
});
