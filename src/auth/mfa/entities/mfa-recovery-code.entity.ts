import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/** One single-use recovery code; only its SHA-256 is stored (the codes carry 80 random bits). */
@Entity('mfa_recovery_codes')
@Index('IDX_mfa_recovery_user', ['userId', 'codeHash'])
export class MfaRecoveryCode {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_mfa_recovery_user' })
  user?: User;

  @Column({ type: 'varchar', length: 64, name: 'code_hash' })
  codeHash!: string;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'used_at', nullable: true })
  usedAt!: Date | null;
}
