import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Every sign-in path asks for the second factor: the two-step challenge remembers how the first
 * step was made (`method`: `password`, `oidc:<provider>`), and a workspace may require a factor
 * of its members (`mfa_required`).
 */
export class MfaSignInPaths1764000700000 implements MigrationInterface {
  name = 'MfaSignInPaths1764000700000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn(
      'mfa_challenges',
      new TableColumn({ name: 'method', type: 'varchar', length: '80', isNullable: true }),
    );
    await qr.addColumn(
      'workspaces',
      new TableColumn({ name: 'mfa_required', type: 'boolean', default: 0 }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('workspaces', 'mfa_required');
    await qr.dropColumn('mfa_challenges', 'method');
  }
}
