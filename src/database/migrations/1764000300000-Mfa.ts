import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/**
 * Second factors (TOTP secrets sealed with the SecretBox, WebAuthn public keys), hashed recovery
 * codes, short-lived MFA challenges (the mfaToken of a two-step sign-in, WebAuthn challenges), and
 * on sessions: when and how the person last proved who they are.
 */
export class Mfa1764000300000 implements MigrationInterface {
  name = 'Mfa1764000300000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'mfa_factors',
      [
        col.id(),
        col.ref('user_id'),
        col.str('type', 16),
        col.str('name', 100),
        col.str('secret_key_id', 64, true),
        col.text('secret', true),
        col.str('credential_id', 255, true),
        col.text('public_key', true),
        { name: 'sign_count', type: 'bigint', isNullable: true },
        col.str('transports', 200, true),
        { name: 'last_used_step', type: 'bigint', isNullable: true },
        col.date('confirmed_at', true),
        col.createdAt(),
        col.date('last_used_at', true),
      ],
      [
        idx('IDX_mfa_factor_user', ['user_id', 'created_at']),
        idx('UQ_mfa_factor_credential', ['credential_id'], true),
      ],
      [fk('FK_mfa_factor_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'mfa_recovery_codes',
      [
        col.id(),
        col.ref('user_id'),
        col.char('code_hash', 64),
        col.createdAt(),
        col.date('used_at', true),
      ],
      [idx('IDX_mfa_recovery_user', ['user_id', 'code_hash'])],
      [fk('FK_mfa_recovery_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'mfa_challenges',
      [
        col.id(),
        col.ref('user_id', true),
        col.str('purpose', 24),
        col.char('token_hash', 64),
        col.str('challenge', 128, true),
        col.str('amr', 64, true),
        col.int('attempts', 0),
        col.date('expires_at'),
        col.date('used_at', true),
        col.createdAt(),
      ],
      [
        idx('UQ_mfa_challenge_token', ['token_hash'], true),
        idx('IDX_mfa_challenge_user', ['user_id']),
      ],
      [fk('FK_mfa_challenge_user', 'user_id', 'users')],
    );
    await qr.addColumns('sessions', [
      new TableColumn({ name: 'auth_time', type: 'datetime', precision: 3, isNullable: true }),
      new TableColumn({ name: 'amr', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'mfa_enrolment', type: 'boolean', default: 0 }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('sessions', 'mfa_enrolment');
    await qr.dropColumn('sessions', 'amr');
    await qr.dropColumn('sessions', 'auth_time');
    await qr.dropTable('mfa_challenges', true);
    await qr.dropTable('mfa_recovery_codes', true);
    await qr.dropTable('mfa_factors', true);
  }
}
