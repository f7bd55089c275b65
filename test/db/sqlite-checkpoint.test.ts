import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { dataSourceOptions } from '#src/database/data-source.js';

/** A WAL frame: a page and its 24-byte header. */
const FRAME = 4096 + 24;

describe('SQLite checkpoints stay small', () => {
  it('a commit checkpoints once the log passes 100 pages, so the log never grows past that', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-checkpoint-'));
    const file = join(dir, 'g.db');
    const options = dataSourceOptions({ type: 'sqlite', path: file, url: `sqlite:${file}` });
    const conn = new Database(file);
    try {
      // The pragmas every Gatehouse connection to a SQLite file gets.
      (options as { prepareDatabase: (c: Database.Database) => void }).prepareDatabase(conn);
      assert.equal(conn.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(conn.pragma('wal_autocheckpoint', { simple: true }), 100);

      // 300 commits of a one-page row each: about 600 frames of log. At SQLite's default of 1000
      // pages the log would hold them all (2.4 MB) and the database file none of the rows.
      conn.exec('CREATE TABLE checkpoint_probe (v BLOB)');
      const insert = conn.prepare('INSERT INTO checkpoint_probe (v) VALUES (randomblob(4000))');
      for (let i = 0; i < 300; i++) insert.run();
      const wal = statSync(`${file}-wal`).size;
      assert.ok(wal > 0 && wal < 2 * 100 * FRAME, `the log is ${wal} bytes`);
      assert.ok(statSync(file).size > 150 * 4096, 'most rows are in the database file');
      const row = conn.prepare('SELECT COUNT(*) AS n FROM checkpoint_probe').get() as { n: number };
      assert.equal(row.n, 300);
    } finally {
      conn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
