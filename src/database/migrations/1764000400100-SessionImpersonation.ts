import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Impersonation sessions: who impersonates and why (null for ordinary sessions). */
export class SessionImpersonation1764000400100 implements MigrationInterface {
  name = 'SessionImpersonation1764000400100';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumns('sessions', [
      new TableColumn({
        name: 'impersonator_id',
        type: 'varchar',
        length: '36',
        isNullable: true,
      }),
      new TableColumn({
        name: 'impersonator_email',
        type: 'varchar',
        length: '254',
        isNullable: true,
      }),
      new TableColumn({
        name: 'impersonation_reason',
        type: 'varchar',
        length: '500',
        isNullable: true,
      }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('sessions', 'impersonation_reason');
    await qr.dropColumn('sessions', 'impersonator_email');
    await qr.dropColumn('sessions', 'impersonator_id');
  }
}
