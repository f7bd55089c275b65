import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/** A revoked access token without a grant (token exchange), kept until the token would expire. */
@Entity('access_token_revocations')
@Index('IDX_access_token_revocation_user', ['userId'])
export class AccessTokenRevocation {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  jti!: string;

  @Column({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_access_token_revocation_user' })
  user?: User;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @CreatedAtColumn()
  createdAt!: Date;
}
