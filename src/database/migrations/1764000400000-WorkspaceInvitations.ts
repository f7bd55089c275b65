import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/** Workspace invitations: single-use hashed tokens mailed as `/invite?token=` links. */
export class WorkspaceInvitations1764000400000 implements MigrationInterface {
  name = 'WorkspaceInvitations1764000400000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(
      qr,
      'workspace_invitations',
      [
        col.id(),
        col.ref('workspace_id'),
        col.str('email', 254),
        col.str('email_normalized', 254),
        col.str('role', 16),
        col.char('token_hash', 64),
        col.ref('invited_by', true),
        col.str('status', 16),
        col.createdAt(),
        col.date('expires_at'),
        col.date('decided_at', true),
        col.ref('decided_by', true),
      ],
      [
        idx('UQ_invitation_token', ['token_hash'], true),
        idx('IDX_invitation_workspace', ['workspace_id', 'status', 'id']),
        idx('IDX_invitation_email', ['email_normalized', 'status']),
      ],
      [
        fk('FK_invitation_workspace', 'workspace_id', 'workspaces'),
        fk('FK_invitation_inviter', 'invited_by', 'users', 'SET NULL'),
        fk('FK_invitation_decider', 'decided_by', 'users', 'SET NULL'),
      ],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('workspace_invitations', true);
  }
}
