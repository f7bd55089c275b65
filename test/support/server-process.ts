import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { loadConfig } from '#src/config/config.js';
import { dataSourceOptions, detectMysqlFlavour } from '#src/database/data-source.js';
import { freePort } from './listen.js';
import { isMysql, provisionDatabase } from './database.js';

/**
 * The built server as a child process, on a database this test process shares with it: for the
 * tests of start-up (bootstrap of the first admin) and of the command line beside a server.
 */
const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

export const SECRET_KEY = 'test-secret-key-test-secret-key-0123456789';
export const ADMIN_PASSWORD = 'the first admin passphrase';

export interface Db {
  url: string;
  drop: () => Promise<void>;
}

/** A database the child processes and this test share: a fresh MariaDB database, or a SQLite file. */
export async function sharedDatabase(dir: string): Promise<Db> {
  if (isMysql()) return provisionDatabase();
  return { url: `sqlite:${join(dir, 'gatehouse.sqlite')}`, drop: async () => undefined };
}

export async function query<T>(url: string, sql: string): Promise<T[]> {
  const db = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, SECRET_KEY }).database;
  const ds = new DataSource(dataSourceOptions(db, await detectMysqlFlavour(db)));
  await ds.initialize();
  try {
    const rows: T[] = await ds.query(sql);
    return rows;
  } finally {
    await ds.destroy();
  }
}

export function baseEnv(dir: string, url: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('BOOTSTRAP_') && !k.startsWith('GATEHOUSE_')) env[k] = v;
  return {
    ...env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    DATABASE_URL: url,
    SECRET_KEY,
    REGISTRATION: 'closed',
    SIGNUP: 'closed',
    RATE_LIMIT_SIGNIN: '0',
    BCRYPT_COST: '10',
    LOG_LEVEL: 'info',
  };
}

export class Server {
  readonly output: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    const collect = (c: Buffer) => this.output.push(...c.toString('utf8').split('\n'));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static async start(env: Record<string, string>): Promise<Server> {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const s = new Server(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 60_000;
    while (!s.output.some((l) => l.includes('Gatehouse listening'))) {
      if (child.exitCode !== null) throw new Error(`server exited:\n${s.output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`server not up:\n${s.output.join('\n')}`);
      await sleep(50);
    }
    return s;
  }

  /** Runs the built server until it exits by itself (a refused configuration). */
  static run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [MAIN],
        { env: { ...env, PORT: '0' }, timeout: 60_000 },
        (e, so, se) =>
          resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, output: `${so}${se}` }),
      );
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
