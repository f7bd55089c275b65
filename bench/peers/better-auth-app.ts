import { apiKey } from '@better-auth/api-key';
import bcrypt from 'bcrypt';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import Database from 'better-sqlite3';
import { createPool } from 'mysql2/promise';
import { createServer } from 'node:http';

/**
 * The peer: better-auth 1.7.5 with its API-key plugin, on the same database engine as Gatehouse in
 * the same run (SQLite through better-sqlite3 by default, MySQL when PEER_DATABASE_URL is mysql://),
 * with bcrypt at the same cost for passwords. Plain node:http + better-auth's node handler.
 * On start it migrates its schema, signs up one user and creates one API key (server-side), then
 * prints `PEER {json}` with what the benchmark needs and listens on PORT.
 */
const port = Number(process.env.PORT ?? '3100');
const cost = Number(process.env.BCRYPT_COST ?? '12');
const dbUrl = process.env.PEER_DATABASE_URL ?? 'sqlite::memory:';
const baseURL = `http://127.0.0.1:${port}`;

const database = dbUrl.startsWith('mysql://')
  ? createPool({ uri: dbUrl, connectionLimit: 20, timezone: 'Z' })
  : (() => {
      const db = new Database(dbUrl.slice('sqlite:'.length));
      db.pragma('journal_mode = WAL');
      return db;
    })();

const options = {
  baseURL,
  secret: 'bench-only-secret-bench-only-secret-0123456789',
  database,
  telemetry: { enabled: false },
  rateLimit: { enabled: false },
  logger: { disabled: true },
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password: string) => bcrypt.hash(password, cost),
      verify: ({ hash, password }: { hash: string; password: string }) =>
        bcrypt.compare(password, hash),
    },
  },
  plugins: [apiKey({ enableSessionForAPIKeys: true, rateLimit: { enabled: false } })],
};

async function main(): Promise<void> {
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  const email = 'peer-bench@example.com';
  const password = 'peer bench password 123';
  const signedUp = await auth.api.signUpEmail({
    body: { email, password, name: 'Peer Bench' },
  });
  const key = await auth.api.createApiKey({
    body: { userId: signedUp.user.id, name: 'bench' },
  });
  const handler = toNodeHandler(auth);
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    void handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`PEER ${JSON.stringify({ email, password, apiKey: key.key })}\n`);
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `peer failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
