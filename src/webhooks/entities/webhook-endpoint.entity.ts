import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import {
  CreatedAtColumn,
  DateColumn,
  JsonColumn,
  RowVersionColumn,
  UpdatedAtColumn,
} from '#src/database/columns.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';

/**
 * Where events go. The signing secret is sealed with the SecretBox (signing needs it in clear);
 * during a rotation's overlap the previous secret signs too, until `previousSecretUntil`.
 */
@Entity('webhook_endpoints')
@Index('IDX_webhook_endpoint_workspace', ['workspaceId', 'id'])
@Index('IDX_webhook_endpoint_enabled', ['enabled'])
export class WebhookEndpoint {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  /** Audit actions or prefixes (`user.*`, `*`). */
  @JsonColumn()
  events!: string[];

  /** Only this workspace's events; null: every event of the server. */
  @Column({ type: 'varchar', length: 36, name: 'workspace_id', nullable: true })
  workspaceId!: string | null;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'FK_webhook_endpoint_workspace' })
  workspace?: Workspace;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description!: string | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'varchar', length: 64, name: 'secret_key_id', select: false })
  secretKeyId!: string;

  @Column({ type: 'text', name: 'secret_ciphertext', select: false })
  secretCiphertext!: string;

  @Column({
    type: 'varchar',
    length: 64,
    name: 'previous_secret_key_id',
    nullable: true,
    select: false,
  })
  previousSecretKeyId!: string | null;

  @Column({ type: 'text', name: 'previous_secret_ciphertext', nullable: true, select: false })
  previousSecretCiphertext!: string | null;

  @DateColumn({ name: 'previous_secret_until', nullable: true })
  previousSecretUntil!: Date | null;

  @Column({ type: 'varchar', length: 36, name: 'created_by', nullable: true })
  createdBy!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}
