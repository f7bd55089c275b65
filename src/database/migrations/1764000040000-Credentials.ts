import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/** API keys, grants with their refresh tokens, JWT signing keys, stored external credentials. */
export class Credentials1764000040000 implements MigrationInterface {
  name = 'Credentials1764000040000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'api_keys',
      [
        col.id(),
        col.ref('user_id'),
        col.str('name', 100),
        col.str('prefix', 16),
        col.char('key_hash', 64),
        col.text('scopes', true),
        col.date('expires_at', true),
        col.date('last_used_at', true),
        col.createdAt(),
        col.date('revoked_at', true),
      ],
      [
        idx('UQ_api_key_hash', ['key_hash'], true),
        idx('IDX_api_key_user', ['user_id', 'created_at']),
      ],
      [fk('FK_api_key_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'grants',
      [
        col.id(),
        col.ref('user_id'),
        col.str('type', 16),
        col.str('for_client_id', 100, true),
        col.text('project_permissions', true),
        col.createdAt(),
        col.date('expires_at'),
        col.date('last_used_at', true),
        col.date('revoked_at', true),
        col.str('revoked_reason', 32, true),
      ],
      [idx('IDX_grant_user', ['user_id', 'created_at'])],
      [fk('FK_grant_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'refresh_tokens',
      [
        col.id(),
        col.ref('grant_id'),
        col.char('token_hash', 64),
        col.createdAt(),
        col.date('consumed_at', true),
      ],
      [
        idx('UQ_refresh_token_hash', ['token_hash'], true),
        idx('IDX_refresh_token_grant', ['grant_id']),
      ],
      [fk('FK_refresh_token_grant', 'grant_id', 'grants')],
    );
    await createTable(qr, 'signing_keys', [
      col.id(),
      col.str('alg', 16),
      col.text('public_jwk'),
      col.text('private_jwk_enc'),
      col.str('enc_key_id', 64),
      col.createdAt(),
      col.date('retired_at', true),
    ]);
    await createTable(
      qr,
      'access_token_revocations',
      [col.id('jti'), col.ref('user_id'), col.date('expires_at'), col.createdAt()],
      [idx('IDX_access_token_revocation_user', ['user_id'])],
      [fk('FK_access_token_revocation_user', 'user_id', 'users')],
    );
    await createTable(
      qr,
      'external_credentials',
      [
        col.id(),
        col.ref('user_id'),
        col.str('service', 64),
        col.str('service_user', 255),
        col.str('display_name', 200, true),
        col.date('access_token_expires', true),
        col.date('access_secret_expires', true),
        col.bool('has_access_secret', false),
        col.text('ciphertext'),
        col.str('key_id', 64),
        col.createdAt(),
        col.updatedAt(),
      ],
      [idx('UQ_external_credential_user_service', ['user_id', 'service'], true)],
      [fk('FK_external_credential_user', 'user_id', 'users')],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of [
      'external_credentials',
      'access_token_revocations',
      'signing_keys',
      'refresh_tokens',
      'grants',
      'api_keys',
    ]) {
      await qr.dropTable(t, true);
    }
  }
}
