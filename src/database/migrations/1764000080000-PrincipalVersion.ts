import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable } from '#src/database/schema.js';

/** The principal-data change counter every instance reads when it cannot rely on Redis. */
export class PrincipalVersion1764000080000 implements MigrationInterface {
  name = 'PrincipalVersion1764000080000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(qr, 'principal_version', [
      { name: 'id', type: 'integer', isPrimary: true },
      col.bigint('version'),
    ]);
    await qr.query('INSERT INTO principal_version (id, version) VALUES (1, 0)');
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('principal_version', true);
  }
}
