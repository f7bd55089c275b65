import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { freePort } from './listen.js';

export const MARIADBD = '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';

/**
 * A MariaDB server of the test's own (its data directory, port and socket), so a test can stop,
 * kill and restart it without touching the machine's server that other tests use. Root has no
 * password (grant tables skipped); it listens on loopback only. `destroy()` kills it and removes
 * its directory; an exit hook does the same if the test process dies first.
 */
export class PrivateMariadb {
  private child: ChildProcess | null = null;
  private readonly onExit = (): void => this.destroySync();

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateMariadb> {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mariadb-'));
    const server = new PrivateMariadb(dir, await freePort());
    process.once('exit', server.onExit);
    try {
      const install = spawnSync(
        MARIADB_INSTALL_DB,
        [
          '--no-defaults',
          `--datadir=${join(dir, 'data')}`,
          '--skip-test-db',
          '--auth-root-authentication-method=normal',
          `--user=${process.env.USER ?? 'root'}`,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (install.status !== 0) {
        throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
      }
      await server.launch();
      return server;
    } catch (err) {
      server.destroySync();
      throw err;
    }
  }

  url(database: string): string {
    return `mysql://root@127.0.0.1:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts mariadbd on the data directory (again, after a kill) and waits until it answers. */
  async launch(): Promise<void> {
    const log = openSync(join(this.dir, 'mariadbd.log'), 'a');
    this.child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--socket=${join(this.dir, 'mariadbd.sock')}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--skip-grant-tables',
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        '--user=root',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`mariadbd exited: see ${this.dir}`);
      try {
        const c = await mysql.createConnection({
          host: '127.0.0.1',
          port: this.port,
          user: 'root',
          connectTimeout: 1000,
        });
        await c.end();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }

  /** Sends a signal to the server: SIGSTOP hangs it, SIGCONT resumes it. */
  signal(sig: NodeJS.Signals): void {
    if (this.child?.pid) process.kill(this.child.pid, sig);
  }

  /** SIGKILL, as a crash or an OOM kill would do; resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async query(database: string, sql: string, params: unknown[] = []): Promise<unknown[]> {
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      port: this.port,
      user: 'root',
      database,
      connectTimeout: 2000,
    });
    try {
      const [rows] = await c.query(sql, params);
      return rows as unknown[];
    } finally {
      await c.end();
    }
  }

  async destroy(): Promise<void> {
    await this.kill();
    this.destroySync();
  }

  private destroySync(): void {
    process.removeListener('exit', this.onExit);
    const pid = this.child?.pid;
    if (pid && this.child?.exitCode === null) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.child = null;
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}
