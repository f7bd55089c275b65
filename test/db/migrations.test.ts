import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';

describe('migrations', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('runs every migration on an empty database', async () => {
    const pending = await t.db.showMigrations();
    assert.equal(pending, false, 'no migration is left pending');
    const ran = await t.db.query('SELECT name FROM migrations');
    assert.ok((ran as unknown[]).length >= 1);
  });

  it('leaves nothing for TypeORM to generate from the entities (no drift)', async () => {
    const sql = await t.db.driver.createSchemaBuilder().log();
    const queries = sql.upQueries.map((q) => q.query);
    assert.deepEqual(queries, [], `entities and migrations differ:\n${queries.join('\n')}`);
  });

  it('names its unique constraints', async () => {
    const unique = t.db.entityMetadatas.flatMap((m) =>
      m.indices.filter((i) => i.isUnique).map((i) => i.name),
    );
    assert.ok(unique.includes('UQ_user_email'));
    assert.ok(
      unique.every((n) => /^UQ_/.test(n)),
      `unnamed unique index among ${unique.join(', ')}`,
    );
  });
});
