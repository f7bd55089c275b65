import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { DateColumn } from '#src/database/columns.js';

/** Append-only, hash-chained record of every change. Holds ids, never secrets. */
@Entity('audit_entries')
@Index('IDX_audit_target', ['targetType', 'targetId', 'seq'])
@Index('IDX_audit_actor', ['actorId', 'seq'])
@Index('IDX_audit_action', ['action', 'seq'])
@Index('IDX_audit_at', ['at', 'seq'])
export class AuditEntry {
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

  @Column({ type: 'text' })
  changes!: string;

  @Column({ type: 'varchar', length: 64, name: 'changes_digest' })
  changesDigest!: string;

  @Column({ type: 'varchar', length: 64, name: 'prev_hash' })
  prevHash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;

  @DateColumn({ name: 'redacted_at', nullable: true })
  redactedAt!: Date | null;

  /** The `X-Request-Id` of the request that made the change (log correlation; outside the hash). */
  @Column({ type: 'varchar', length: 64, name: 'request_id', nullable: true })
  requestId!: string | null;
}

/** One row: the chain's head, locked while appending so concurrent writers never fork the chain. */
@Entity('audit_head')
export class AuditHead {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'bigint', name: 'last_seq' })
  lastSeq!: string;

  @Column({ type: 'varchar', length: 64, name: 'last_hash' })
  lastHash!: string;
}
