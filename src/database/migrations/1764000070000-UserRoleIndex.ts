import type { MigrationInterface, QueryRunner } from 'typeorm';
import { idx } from '#src/database/schema.js';

/** Lets the last-admin check lock only the active admin rows (not scan and lock the users table). */
export class UserRoleIndex1764000070000 implements MigrationInterface {
  name = 'UserRoleIndex1764000070000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.createIndex('users', idx('IDX_user_role_status', ['role', 'status']));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('users', 'IDX_user_role_status');
  }
}
