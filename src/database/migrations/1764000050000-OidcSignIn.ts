import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/** Browser sign-in through OpenID Connect: per-attempt login state and pending confirm-links. */
export class OidcSignIn1764000050000 implements MigrationInterface {
  name = 'OidcSignIn1764000050000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'oidc_login_attempts',
      [
        col.id(),
        col.char('state_hash', 64),
        col.char('binding_hash', 64),
        col.str('provider_id', 64),
        col.str('nonce', 128),
        col.str('code_verifier', 128),
        col.str('return_to', 512),
        col.createdAt(),
        col.date('expires_at'),
      ],
      [
        idx('UQ_oidc_attempt_state', ['state_hash'], true),
        idx('IDX_oidc_attempt_expires', ['expires_at']),
      ],
    );
    await createTable(
      qr,
      'oidc_pending_links',
      [
        col.id(),
        col.char('token_hash', 64),
        col.ref('user_id'),
        col.str('provider_id', 64),
        col.str('issuer', 255),
        col.str('subject', 255),
        col.str('email', 254, true),
        col.str('return_to', 512),
        col.int('failed_attempts', 0),
        col.createdAt(),
        col.date('expires_at'),
      ],
      [
        idx('UQ_oidc_pending_token', ['token_hash'], true),
        idx('IDX_oidc_pending_expires', ['expires_at']),
      ],
      [fk('FK_oidc_pending_user', 'user_id', 'users')],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('oidc_pending_links', true);
    await qr.dropTable('oidc_login_attempts', true);
  }
}
