import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { fk } from '#src/database/schema.js';

/** Every column holding a group id, with whether it may be NULL. */
const COLUMNS: [table: string, column: string, nullable: boolean][] = [
  ['user_groups', 'id', false],
  ['group_members', 'group_id', false],
  ['project_members', 'member_id', false],
  ['project_members', 'group_id', true],
  ['scim_groups', 'group_id', false],
];

/** The foreign keys that reference user_groups.id (they must match its type on MySQL). */
const REFERENCES: [name: string, table: string, column: string][] = [
  ['FK_group_member_group', 'group_members', 'group_id'],
  ['FK_project_member_group', 'project_members', 'group_id'],
  ['FK_scim_group_group', 'scim_groups', 'group_id'],
];

/**
 * Group ids may be chosen by the group's creator (the seeds' `identifier`, up to 64 characters), so
 * every column holding one widens from 36 to 64. Data is kept: on MySQL by MODIFY with the foreign
 * keys dropped and re-made around it (TypeORM's changeColumn would drop and re-add the column on a
 * length change), on SQLite by TypeORM's table rebuild (migrations run there with foreign keys off).
 */
export class GroupIdentifiers1764000900000 implements MigrationInterface {
  name = 'GroupIdentifiers1764000900000';

  async up(qr: QueryRunner): Promise<void> {
    await this.resize(qr, 64);
  }

  async down(qr: QueryRunner): Promise<void> {
    await this.resize(qr, 36);
  }

  private async resize(qr: QueryRunner, length: number): Promise<void> {
    const type = qr.connection.driver.options.type;
    if (type === 'mysql' || type === 'mariadb') {
      for (const [name, table] of REFERENCES) await qr.dropForeignKey(table, name);
      for (const [table, column, nullable] of COLUMNS) {
        await qr.query(
          `ALTER TABLE \`${table}\` MODIFY \`${column}\` varchar(${length}) ${nullable ? 'NULL' : 'NOT NULL'}`,
        );
      }
      for (const [name, table, column] of REFERENCES)
        await qr.createForeignKey(table, fk(name, column, 'user_groups'));
      return;
    }
    const byTable = new Map<string, [string, boolean][]>();
    for (const [table, column, nullable] of COLUMNS)
      byTable.set(table, [...(byTable.get(table) ?? []), [column, nullable]]);
    for (const [table, columns] of byTable) {
      const t = await qr.getTable(table);
      if (!t) throw new Error(`table ${table} is missing`);
      await qr.changeColumns(
        t,
        columns.map(([column]) => {
          const old = t.findColumnByName(column);
          if (!old) throw new Error(`column ${table}.${column} is missing`);
          const next = old.clone();
          next.length = String(length);
          return { oldColumn: old, newColumn: new TableColumn(next) };
        }),
      );
    }
  }
}
