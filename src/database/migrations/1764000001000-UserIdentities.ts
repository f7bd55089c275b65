import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

export class UserIdentities1764000001000 implements MigrationInterface {
  name = 'UserIdentities1764000001000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'user_identities',
      [
        col.id(),
        col.ref('user_id'),
        col.str('provider_id', 64),
        col.str('issuer', 255),
        col.str('subject', 255),
        col.str('email', 254, true),
        col.createdAt(),
        col.date('last_used_at', true),
      ],
      [
        idx('UQ_identity_issuer_subject', ['issuer', 'subject'], true),
        idx('UQ_identity_user_issuer', ['user_id', 'issuer'], true),
      ],
      [fk('FK_identity_user', 'user_id', 'users')],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('user_identities', true);
  }
}
