import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/** A sign-in session. Only the SHA-256 of its token is stored. */
@Entity('sessions')
@Index('UQ_session_token', ['tokenHash'], { unique: true })
@Index('IDX_session_user', ['userId', 'createdAt'])
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_session_user' })
  user?: User;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'last_seen_at' })
  lastSeenAt!: Date;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'user_agent', nullable: true })
  userAgent!: string | null;

  /** How the person signed in: `password` or `oidc:<provider>`. */
  @Column({ type: 'varchar', length: 80 })
  method!: string;

  @DateColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  /** When the person last proved who they are in this session (sign-in or re-authentication). */
  @DateColumn({ name: 'auth_time', nullable: true })
  authTime!: Date | null;

  /** How (RFC 8176 values, space-separated): `pwd`, `pwd otp`, `pwd swk`, `hwk`, `ext`... */
  @Column({ type: 'varchar', length: 64, nullable: true })
  amr!: string | null;

  /** Signed in without the second factor MFA_REQUIRED asks for: only enrolment routes work. */
  @Column({ type: 'boolean', name: 'mfa_enrolment', default: false })
  mfaEnrolment!: boolean;
  /** Impersonation sessions: the user acting as this one (kept if that user is deleted). */
  @Column({ type: 'varchar', length: 36, name: 'impersonator_id', nullable: true })
  impersonatorId!: string | null;

  @Column({ type: 'varchar', length: 254, name: 'impersonator_email', nullable: true })
  impersonatorEmail!: string | null;

  @Column({ type: 'varchar', length: 500, name: 'impersonation_reason', nullable: true })
  impersonationReason!: string | null;
}
