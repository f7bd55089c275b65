import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

export type UserTokenKind = 'activation' | 'password_reset' | 'invitation';

/** Single-use mailed tokens (activation, password reset, invitation); stored hashed, expiring. */
@Entity('user_tokens')
@Index('UQ_user_token_hash', ['tokenHash'], { unique: true })
@Index('IDX_user_token_user', ['userId', 'kind'])
export class UserToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_user_token_user' })
  user?: User;

  @Column({ type: 'varchar', length: 16 })
  kind!: UserTokenKind;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @DateColumn({ name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @CreatedAtColumn()
  createdAt!: Date;
}
