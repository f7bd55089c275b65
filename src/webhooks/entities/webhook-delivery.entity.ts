import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { WebhookEndpoint } from '#src/webhooks/entities/webhook-endpoint.entity.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one endpoint. Its id is the `webhook-id` (the same on every attempt, so receivers
 * can drop duplicates). A worker owns it while `leaseUntil` is in the future (`claimedBy` names
 * that claim); the lease is committed before the request is sent.
 */
@Entity('webhook_deliveries')
@Index('UQ_webhook_delivery_event', ['endpointId', 'eventSeq'], { unique: true })
@Index('IDX_webhook_delivery_due', ['status', 'nextAttemptAt'])
@Index('IDX_webhook_delivery_endpoint', ['endpointId', 'id'])
export class WebhookDelivery {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'endpoint_id' })
  endpointId!: string;

  @ManyToOne(() => WebhookEndpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'FK_webhook_delivery_endpoint' })
  endpoint?: WebhookEndpoint;

  @Column({ type: 'bigint', name: 'event_seq' })
  eventSeq!: string;

  @Column({ type: 'varchar', length: 64, name: 'event_type' })
  eventType!: string;

  /** The exact body sent on every attempt. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @DateColumn({ name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  /** No retry is scheduled past this moment (24 h after the event, or after a manual retry). */
  @DateColumn({ name: 'give_up_at' })
  giveUpAt!: Date;

  @Column({ type: 'varchar', length: 64, name: 'claimed_by', nullable: true })
  claimedBy!: string | null;

  @DateColumn({ name: 'lease_until', nullable: true })
  leaseUntil!: Date | null;

  @Column({ type: 'integer', name: 'last_status_code', nullable: true })
  lastStatusCode!: number | null;

  @Column({ type: 'varchar', length: 500, name: 'last_error', nullable: true })
  lastError!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @DateColumn({ name: 'completed_at', nullable: true })
  completedAt!: Date | null;
}
