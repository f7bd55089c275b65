import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asRow } from '#src/database/columns.js';
import { GroupIdentifiers1764000900000 } from '#src/database/migrations/1764000900000-GroupIdentifiers.js';
import { ScimGroup } from '#src/scim/scim-group.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { isMysql } from '../support/database.js';
import { insertGroup, insertProject, insertUser, insertWorkspace } from '../factories/rows.js';

/** Every column that holds a group id, as the migration widens it. */
const COLUMNS: [string, string][] = [
  ['user_groups', 'id'],
  ['group_members', 'group_id'],
  ['project_members', 'member_id'],
  ['project_members', 'group_id'],
  ['scim_groups', 'group_id'],
];

describe('migration 1764000900000-GroupIdentifiers', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  async function lengths(): Promise<string[]> {
    const qr = t.db.createQueryRunner();
    try {
      const out: string[] = [];
      for (const [table, column] of COLUMNS) {
        const found = (await qr.getTable(table))?.findColumnByName(column);
        out.push(`${table}.${column}:${found?.length ?? 'missing'}`);
      }
      return out;
    } finally {
      await qr.release();
    }
  }

  /** Runs one direction as the migration runner would (SQLite: with foreign keys off). */
  async function run(direction: 'up' | 'down'): Promise<void> {
    const qr = t.db.createQueryRunner();
    try {
      if (!isMysql()) await qr.query('PRAGMA foreign_keys = OFF');
      await new GroupIdentifiers1764000900000()[direction](qr);
    } finally {
      if (!isMysql()) await qr.query('PRAGMA foreign_keys = ON');
      await qr.release();
    }
  }

  it('widens every group-id column to 64 and back, keeping the rows and the foreign keys', async () => {
    const user = await insertUser(t.db);
    const ws = await insertWorkspace(t.db, { [user.id]: 'admin' });
    const group = await insertGroup(t.db, ws.id, { members: [user.id], ownerId: user.id });
    const project = await insertProject(t.db, ws.id, { groups: { [group.id]: 'reader' } });
    await t.db.getRepository(ScimGroup).insert({
      groupId: group.id,
      workspaceId: ws.id,
      externalId: 'ext',
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    const rows = async () => [
      await t.db.getRepository(Group).countBy({ id: group.id }),
      await t.db.getRepository(GroupMember).countBy({ groupId: group.id, userId: user.id }),
      await t.db
        .getRepository(ProjectMember)
        .countBy({ projectId: project.id, memberId: group.id, groupId: group.id }),
      await t.db.getRepository(ScimGroup).countBy({ groupId: group.id }),
    ];
    const wide = COLUMNS.map(([table, column]) => `${table}.${column}:64`);
    assert.deepEqual(await lengths(), wide);

    await run('down');
    assert.deepEqual(
      await lengths(),
      COLUMNS.map(([table, column]) => `${table}.${column}:36`),
    );
    assert.deepEqual(await rows(), [1, 1, 1, 1]);

    await run('up');
    assert.deepEqual(await lengths(), wide);
    assert.deepEqual(await rows(), [1, 1, 1, 1]);
    // Nothing left for TypeORM to generate: the foreign keys are back as the entities declare.
    const drift = (await t.db.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
    assert.deepEqual(drift, []);

    // A 64-character id fits everywhere, and the foreign keys still hold and cascade.
    const long = `g.${'x'.repeat(62)}`;
    await t.db.getRepository(Group).insert(
      asRow({
        id: long,
        workspaceId: ws.id,
        projectId: null,
        scopeKey: ws.id,
        name: long,
        nameNormalized: long,
        ownerId: user.id,
        settings: {},
        createdAt: new Date(),
        updatedAt: new Date(),
        version: 1,
      }),
    );
    await t.db
      .getRepository(GroupMember)
      .insert({ groupId: long, userId: user.id, createdAt: new Date() });
    assert.equal(
      (await t.db.getRepository(GroupMember).findOneByOrFail({ groupId: long })).groupId,
      long,
    );
    await assert.rejects(
      t.db.getRepository(GroupMember).insert({
        groupId: `no-such-group-${'y'.repeat(40)}`,
        userId: user.id,
        createdAt: new Date(),
      }),
    );
    await t.db.getRepository(Group).delete({ id: group.id });
    assert.deepEqual(await rows(), [0, 0, 0, 0], 'deleting the group cascades to every reference');
  });
});
