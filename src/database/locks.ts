import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';

/**
 * The query read with a row lock (SELECT ... FOR UPDATE) on MySQL, so the reads after it see the
 * latest committed rows; on SQLite transactions are already serialised and there is no such lock.
 */
export function forUpdate<T extends ObjectLiteral>(
  tx: Tx,
  qb: SelectQueryBuilder<T>,
): SelectQueryBuilder<T> {
  return tx.connection.options.type === 'better-sqlite3' ? qb : qb.setLock('pessimistic_write');
}
