import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createTable, fk, idx } from '#src/database/schema.js';

/**
 * The event outbox (one row per audit entry, written in the entry's transaction), webhook endpoints,
 * their deliveries (one per endpoint and event, leased by one worker at a time) and the attempts.
 */
export class Webhooks1764000600000 implements MigrationInterface {
  name = 'Webhooks1764000600000';

  async up(qr: QueryRunner): Promise<void> {
    await createTable(qr, 'event_outbox', [
      col.bigint('seq', true),
      col.date('at'),
      col.ref('actor_id', true),
      col.str('action', 64),
      col.str('target_type', 32),
      col.str('target_id', 64),
      col.text('changes'),
      col.str('request_id', 64, true),
    ]);
    await createTable(
      qr,
      'webhook_endpoints',
      [
        col.id(),
        col.str('url', 2048),
        col.text('events'),
        col.ref('workspace_id', true),
        col.str('description', 500, true),
        col.bool('enabled', true),
        col.str('secret_key_id', 64),
        col.text('secret_ciphertext'),
        col.str('previous_secret_key_id', 64, true),
        col.text('previous_secret_ciphertext', true),
        col.date('previous_secret_until', true),
        col.ref('created_by', true),
        col.createdAt(),
        col.updatedAt(),
        col.version(),
      ],
      [
        idx('IDX_webhook_endpoint_workspace', ['workspace_id', 'id']),
        idx('IDX_webhook_endpoint_enabled', ['enabled']),
      ],
      [fk('FK_webhook_endpoint_workspace', 'workspace_id', 'workspaces')],
    );
    await createTable(
      qr,
      'webhook_deliveries',
      [
        col.id(),
        col.ref('endpoint_id'),
        col.bigint('event_seq'),
        col.str('event_type', 64),
        col.text('payload'),
        col.str('status', 16),
        col.int('attempts', 0),
        col.date('next_attempt_at'),
        col.date('give_up_at'),
        col.str('claimed_by', 64, true),
        col.date('lease_until', true),
        { name: 'last_status_code', type: 'integer', isNullable: true },
        col.str('last_error', 500, true),
        col.createdAt(),
        col.updatedAt(),
        col.date('completed_at', true),
      ],
      [
        idx('UQ_webhook_delivery_event', ['endpoint_id', 'event_seq'], true),
        idx('IDX_webhook_delivery_due', ['status', 'next_attempt_at']),
        idx('IDX_webhook_delivery_endpoint', ['endpoint_id', 'id']),
      ],
      [fk('FK_webhook_delivery_endpoint', 'endpoint_id', 'webhook_endpoints')],
    );
    await createTable(
      qr,
      'webhook_attempts',
      [
        col.id(),
        col.ref('delivery_id'),
        col.int('attempt'),
        col.date('started_at'),
        col.int('duration_ms'),
        { name: 'status_code', type: 'integer', isNullable: true },
        col.str('error', 500, true),
        col.bool('succeeded', false),
        col.str('worker', 64),
      ],
      [idx('IDX_webhook_attempt_delivery', ['delivery_id', 'attempt'])],
      [fk('FK_webhook_attempt_delivery', 'delivery_id', 'webhook_deliveries')],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('webhook_attempts');
    await qr.dropTable('webhook_deliveries');
    await qr.dropTable('webhook_endpoints');
    await qr.dropTable('event_outbox');
  }
}
