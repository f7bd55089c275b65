import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';
import { Grant } from '#src/credentials/entities/grant.entity.js';

/** One refresh token of a grant's family; consumed exactly once (rotation). Stored hashed. */
@Entity('refresh_tokens')
@Index('UQ_refresh_token_hash', ['tokenHash'], { unique: true })
@Index('IDX_refresh_token_grant', ['grantId'])
export class RefreshToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'grant_id' })
  grantId!: string;

  @ManyToOne(() => Grant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'grant_id', foreignKeyConstraintName: 'FK_refresh_token_grant' })
  grant?: Grant;

  @Column({ type: 'varchar', length: 64, name: 'token_hash' })
  tokenHash!: string;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'consumed_at', nullable: true })
  consumedAt!: Date | null;
}
