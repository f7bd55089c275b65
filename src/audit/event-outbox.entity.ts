import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DateColumn } from '#src/database/columns.js';

/**
 * The transactional outbox: a copy of each audit entry, written in the entry's own transaction (so
 * a row exists exactly when the change committed), taken and removed by the webhook worker, which
 * turns it into deliveries. Holds what the entry holds (ids and scrubbed changes, never secrets).
 */
@Entity('event_outbox')
export class EventOutboxRow {
  /** The audit entry's sequence number. */
  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  @DateColumn()
  at!: Date;

  @Column({ type: 'varchar', length: 36, name: 'actor_id', nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 32, name: 'target_type' })
  targetType!: string;

  @Column({ type: 'varchar', length: 64, name: 'target_id' })
  targetId!: string;

  /** JSON, as in the audit entry. */
  @Column({ type: 'text' })
  changes!: string;

  @Column({ type: 'varchar', length: 64, name: 'request_id', nullable: true })
  requestId!: string | null;
}
