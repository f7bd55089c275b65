import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DateColumn } from '#src/database/columns.js';
import { WebhookDelivery } from '#src/webhooks/entities/webhook-delivery.entity.js';

/** One HTTP request of a delivery: when, how long, what came back. */
@Entity('webhook_attempts')
@Index('IDX_webhook_attempt_delivery', ['deliveryId', 'attempt'])
export class WebhookAttempt {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'delivery_id' })
  deliveryId!: string;

  @ManyToOne(() => WebhookDelivery, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id', foreignKeyConstraintName: 'FK_webhook_attempt_delivery' })
  delivery?: WebhookDelivery;

  @Column({ type: 'integer' })
  attempt!: number;

  @DateColumn({ name: 'started_at' })
  startedAt!: Date;

  @Column({ type: 'integer', name: 'duration_ms' })
  durationMs!: number;

  @Column({ type: 'integer', name: 'status_code', nullable: true })
  statusCode!: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  error!: string | null;

  @Column({ type: 'boolean', default: false })
  succeeded!: boolean;

  @Column({ type: 'varchar', length: 64 })
  worker!: string;
}
