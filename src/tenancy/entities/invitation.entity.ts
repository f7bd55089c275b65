import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';
import { Workspace, type WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';

export type InvitationStatus = 'pending' | 'accepted' | 'declined' | 'revoked';

/**
 * An invitation to join a workspace with a role, mailed as a `/invite?token=` link. Only the
 * SHA-256 of the token is stored; the row stays after it is decided (the page then says "used"
 * or "revoked").
 */
@Entity('workspace_invitations')
@Index('UQ_invitation_token', ['tokenHash'], { unique: true })
@Index('IDX_invitation_workspace', ['workspaceId', 'status', 'id'])
@Index('IDX_invitation_email', ['emailNormalized', 'status'])
export class Invitation {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'workspace_id' })
  workspaceId!: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'FK_invitation_workspace' })
  workspace?: Workspace;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 254, name: 'email_normalized' })
  emailNormalized!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: WorkspaceRole;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @Column({ type: 'varchar', length: 36, name: 'invited_by', nullable: true })
  invitedBy!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'invited_by', foreignKeyConstraintName: 'FK_invitation_inviter' })
  inviter?: User;

  @Column({ type: 'varchar', length: 16 })
  status!: InvitationStatus;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateColumn({ name: 'decided_at', nullable: true })
  decidedAt!: Date | null;

  /** Who decided: the account that accepted or declined, or the admin who revoked (null: none). */
  @Column({ type: 'varchar', length: 36, name: 'decided_by', nullable: true })
  decidedBy!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'decided_by', foreignKeyConstraintName: 'FK_invitation_decider' })
  decider?: User;
}
