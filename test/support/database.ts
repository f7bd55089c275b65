import mysql from 'mysql2/promise';

let counter = 0;

/** The database a test application runs on: a fresh MySQL database per app, or in-memory SQLite. */
export async function provisionDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base || base.startsWith('sqlite:'))
    return { url: base ?? 'sqlite::memory:', drop: async () => undefined };
  const u = new URL(base);
  const name = `${u.pathname.replace(/^\//, '') || 'gatehouse_test'}_${process.pid}_${++counter}`;
  const admin = await mysql.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  });
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = await mysql.createConnection({
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
      });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

export function isMysql(): boolean {
  return (process.env.TEST_DATABASE_URL ?? '').startsWith('mysql');
}
