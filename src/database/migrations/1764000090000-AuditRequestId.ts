import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Audit entries keep the id of the request that made them, to find its log lines. */
export class AuditRequestId1764000090000 implements MigrationInterface {
  name = 'AuditRequestId1764000090000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn(
      'audit_entries',
      new TableColumn({ name: 'request_id', type: 'varchar', length: '64', isNullable: true }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('audit_entries', 'request_id');
  }
}
