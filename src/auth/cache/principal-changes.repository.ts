import { Injectable } from '@nestjs/common';
import {
  DataSource,
  type EntitySubscriberInterface,
  type InsertEvent,
  type QueryRunner,
  type RemoveEvent,
  type TransactionCommitEvent,
  type UpdateEvent,
} from 'typeorm';

/**
 * Tables whose rows make up a cached principal: status, server role, named roles and their
 * permissions; API keys, grants, access-token revocations and signing keys; and what a grant's
 * project permissions are re-intersected with (workspace, group and project memberships).
 * Sessions are not here: their revocation invalidates the user explicitly (and a login must not
 * empty every cache).
 */
export const PRINCIPAL_TABLES: ReadonlySet<string> = new Set([
  'users',
  'roles',
  'user_roles',
  'api_keys',
  'grants',
  'access_token_revocations',
  'signing_keys',
  'workspaces',
  'workspace_members',
  'projects',
  'user_groups',
  'group_members',
  'project_members',
]);
const CHANGED = 'principalDataChanged';

/**
 * Calls `changed` after every committed write to the principal tables made through TypeORM (inside a
 * transaction: at the write and again at commit; outside one: at once), so cached principals never
 * outlive a role change or a revocation. Writes made with listeners off (API key `last_used_at`
 * touches) do not count.
 */
class PrincipalChangeSubscriber implements EntitySubscriberInterface {
  constructor(private readonly changed: () => void) {}

  private mark(event: { metadata?: { tableName: string }; queryRunner: QueryRunner }): void {
    if (!event.metadata || !PRINCIPAL_TABLES.has(event.metadata.tableName)) return;
    this.changed();
    if (event.queryRunner.isTransactionActive) event.queryRunner.data[CHANGED] = true;
  }

  afterInsert(event: InsertEvent<unknown>): void {
    this.mark(event);
  }
  afterUpdate(event: UpdateEvent<unknown>): void {
    this.mark(event);
  }
  afterRemove(event: RemoveEvent<unknown>): void {
    this.mark(event);
  }
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown>;
    if (data[CHANGED]) {
      delete data[CHANGED];
      this.changed();
    }
  }
  afterTransactionRollback(event: TransactionCommitEvent): void {
    delete (event.queryRunner.data as Record<string, unknown>)[CHANGED];
  }
}

@Injectable()
export class PrincipalChangesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Registers a callback for committed changes to the principal tables. */
  onPrincipalDataChanged(changed: () => void): void {
    this.dataSource.subscribers.push(new PrincipalChangeSubscriber(changed));
  }
}
