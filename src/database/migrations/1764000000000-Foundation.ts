import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'users',
      [
        col.id(),
        col.str('email', 254),
        col.str('email_normalized', 254),
        col.str('username', 64, true),
        col.str('username_normalized', 64, true),
        col.str('full_name', 200, true),
        col.str('full_name_normalized', 200, true),
        col.str('password_hash', 100, true),
        col.str('role', 16),
        col.str('status', 16),
        col.bool('email_verified', false),
        col.text('data'),
        col.int('failed_logins', 0),
        col.int('lock_count', 0),
        col.date('locked_until', true),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [
        idx('UQ_user_email', ['email_normalized'], true),
        idx('UQ_user_username', ['username_normalized'], true),
        idx('IDX_user_full_name', ['full_name_normalized', 'id']),
      ],
    );
    await createTable(
      qr,
      'roles',
      [
        col.id(),
        col.str('name', 64),
        col.str('description', 500, true),
        col.text('permissions'),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [idx('UQ_role_name', ['name'], true)],
    );
    await createTable(
      qr,
      'user_roles',
      [col.id('user_id'), col.id('role_id')],
      [idx('IDX_user_role_role', ['role_id'])],
      [fk('FK_user_role_user', 'user_id', 'users'), fk('FK_user_role_role', 'role_id', 'roles')],
    );
    await createTable(
      qr,
      'sessions',
      [
        col.id(),
        col.ref('user_id'),
        col.char('token_hash', 64),
        col.createdAt(),
        col.date('last_seen_at'),
        col.date('expires_at'),
        col.str('ip', 64, true),
        col.str('user_agent', 255, true),
        col.str('method', 80),
        col.date('revoked_at', true),
      ],
      [
        idx('UQ_session_token', ['token_hash'], true),
        idx('IDX_session_user', ['user_id', 'created_at']),
      ],
      [fk('FK_session_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'user_tokens',
      [
        col.id(),
        col.ref('user_id'),
        col.str('kind', 16),
        col.char('token_hash', 64),
        col.date('expires_at'),
        col.date('used_at', true),
        col.createdAt(),
      ],
      [
        idx('UQ_user_token_hash', ['token_hash'], true),
        idx('IDX_user_token_user', ['user_id', 'kind']),
      ],
      [fk('FK_user_token_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'audit_entries',
      [
        col.bigint('seq', true),
        col.date('at'),
        col.ref('actor_id', true),
        col.str('action', 64),
        col.str('target_type', 32),
        col.str('target_id', 64),
        col.text('changes'),
        col.char('changes_digest', 64),
        col.char('prev_hash', 64),
        col.char('hash', 64),
        col.date('redacted_at', true),
      ],
      [
        idx('IDX_audit_target', ['target_type', 'target_id', 'seq']),
        idx('IDX_audit_actor', ['actor_id', 'seq']),
      ],
    );
    await createTable(qr, 'audit_head', [
      { name: 'id', type: 'integer', isPrimary: true },
      col.bigint('last_seq'),
      col.char('last_hash', 64),
    ]);
    await qr.query(
      `INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '${'0'.repeat(64)}')`,
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of [
      'audit_head',
      'audit_entries',
      'user_tokens',
      'sessions',
      'user_roles',
      'roles',
      'users',
    ]) {
      await qr.dropTable(t, true);
    }
  }
}
