import type { MigrationInterface, QueryRunner } from 'typeorm';

const PLACEHOLDER_DOMAIN = '@clients.invalid';

/** What better-sqlite3 offers to leave its defensive mode (which forbids editing the schema table). */
interface BetterSqliteHandle {
  unsafeMode(on: boolean): void;
}

/**
 * Service accounts (an OAuth client's) have no email: `users.email` and `users.email_normalized`
 * become nullable (the unique index lets NULLs repeat on both databases), and the placeholder
 * addresses (`<clientId>@clients.invalid`) become NULL.
 *
 * SQLite cannot drop a NOT NULL in place, and rebuilding `users` (create, copy, drop, rename) is
 * unsafe here: with foreign keys on, DROP TABLE deletes the rows referencing `users` first (their
 * ON DELETE CASCADE fires), and the pragma cannot be turned off inside the migration's transaction.
 * SQLite's documented procedure for removing a NOT NULL constraint is used instead: the stored
 * CREATE TABLE text is edited (writable_schema) and schema_version bumped, in the same transaction
 * (https://www.sqlite.org/lang_altertable.html#otheralter); the rows need no change.
 */
export class ServiceUsersWithoutEmail1764000800000 implements MigrationInterface {
  name = 'ServiceUsersWithoutEmail1764000800000';

  async up(qr: QueryRunner): Promise<void> {
    if (qr.connection.options.type === 'mysql' || qr.connection.options.type === 'mariadb') {
      await qr.query(
        'ALTER TABLE `users` MODIFY `email` varchar(254) NULL, MODIFY `email_normalized` varchar(254) NULL',
      );
    } else {
      await this.sqliteNullability(qr, true);
    }
    await qr.query(
      `UPDATE users SET email = NULL, email_normalized = NULL WHERE kind = 'service' AND email_normalized LIKE ?`,
      [`%${PLACEHOLDER_DOMAIN}`],
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(
      `UPDATE users SET email = ${concat(qr, 'id', `'${PLACEHOLDER_DOMAIN}'`)}, email_normalized = ${concat(qr, 'id', `'${PLACEHOLDER_DOMAIN}'`)} WHERE email IS NULL`,
    );
    if (qr.connection.options.type === 'mysql' || qr.connection.options.type === 'mariadb') {
      await qr.query(
        'ALTER TABLE `users` MODIFY `email` varchar(254) NOT NULL, MODIFY `email_normalized` varchar(254) NOT NULL',
      );
    } else {
      await this.sqliteNullability(qr, false);
    }
  }

  private async sqliteNullability(qr: QueryRunner, nullable: boolean): Promise<void> {
    const rows = (await qr.query(
      `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'`,
    )) as { sql: string }[];
    let sql = rows[0]?.sql ?? '';
    for (const column of ['email', 'email_normalized']) {
      const notNull = `"${column}" varchar(254) NOT NULL`;
      const plain = `"${column}" varchar(254)`;
      const from = nullable ? notNull : new RegExp(`"${column}" varchar\\(254\\)(?! NOT NULL)`);
      const next = sql.replace(from, nullable ? plain : notNull);
      if (next === sql) throw new Error(`users.${column}: unexpected column definition in ${sql}`);
      sql = next;
    }
    const driver = qr.connection.driver as unknown as { databaseConnection: BetterSqliteHandle };
    const version = (await qr.query('PRAGMA schema_version')) as { schema_version: number }[];
    driver.databaseConnection.unsafeMode(true);
    try {
      await qr.query('PRAGMA writable_schema = ON');
      await qr.query(`UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'`, [
        sql,
      ]);
      await qr.query(`PRAGMA schema_version = ${Number(version[0]!.schema_version) + 1}`);
      await qr.query('PRAGMA writable_schema = OFF');
    } finally {
      driver.databaseConnection.unsafeMode(false);
    }
    const check = (await qr.query('PRAGMA integrity_check')) as { integrity_check: string }[];
    if (check[0]?.integrity_check !== 'ok')
      throw new Error(`users: integrity check failed after the change: ${JSON.stringify(check)}`);
  }
}

function concat(qr: QueryRunner, a: string, b: string): string {
  return qr.connection.options.type === 'mysql' || qr.connection.options.type === 'mariadb'
    ? `CONCAT(${a}, ${b})`
    : `${a} || ${b}`;
}
