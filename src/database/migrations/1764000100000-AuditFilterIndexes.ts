import type { MigrationInterface, QueryRunner } from 'typeorm';
import { idx } from '#src/database/schema.js';

/**
 * `GET /audit?action=` and `?since=&until=` read through an index, newest first by seq, instead of
 * scanning the whole log (actor and target filters already have theirs).
 */
export class AuditFilterIndexes1764000100000 implements MigrationInterface {
  name = 'AuditFilterIndexes1764000100000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.createIndex('audit_entries', idx('IDX_audit_action', ['action', 'seq']));
    await qr.createIndex('audit_entries', idx('IDX_audit_at', ['at', 'seq']));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('audit_entries', 'IDX_audit_at');
    await qr.dropIndex('audit_entries', 'IDX_audit_action');
  }
}
