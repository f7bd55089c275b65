import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { col, createTable, idx } from '#src/database/schema.js';

/** Gatehouse as an OpenID Provider: the library's storage, the client registry, users.kind. */
export class OidcProvider1764000200000 implements MigrationInterface {
  name = 'OidcProvider1764000200000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'oidc_payloads',
      [
        { ...col.str('model', 40), isPrimary: true },
        { ...col.str('id', 128), isPrimary: true },
        col.text('payload'),
        col.str('grant_id', 128, true),
        col.str('user_code', 128, true),
        col.str('uid', 128, true),
        col.ref('client_id', true),
        col.ref('account_id', true),
        col.date('expires_at', true),
        col.date('consumed_at', true),
      ],
      [
        idx('IDX_oidc_payload_grant', ['grant_id']),
        idx('IDX_oidc_payload_user_code', ['user_code']),
        idx('IDX_oidc_payload_uid', ['uid']),
        idx('IDX_oidc_payload_client', ['client_id']),
        idx('IDX_oidc_payload_expires', ['expires_at']),
      ],
    );
    await createTable(qr, 'oauth_clients', [
      col.id('client_id'),
      col.str('name', 200),
      col.str('secret_hash', 64, true),
      col.str('token_endpoint_auth_method', 32),
      col.text('grant_types'),
      col.text('redirect_uris'),
      col.text('post_logout_redirect_uris'),
      col.text('scopes'),
      col.bool('first_party', false),
      col.text('allowed_origins'),
      col.text('jwks', true),
      col.str('jwks_uri', 512, true),
      col.ref('service_user_id', true),
      col.createdAt(),
      col.updatedAt(),
      col.version(),
    ]);
    await qr.addColumn(
      'users',
      new TableColumn({
        name: 'kind',
        type: 'varchar',
        length: '16',
        isNullable: false,
        default: "'person'",
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('users', 'kind');
    await qr.dropTable('oauth_clients', true);
    await qr.dropTable('oidc_payloads', true);
  }
}
