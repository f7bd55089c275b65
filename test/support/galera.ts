import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { atExit, signalGroup } from './cleanup.js';
import { freePort } from './listen.js';
import { MARIADBD, MARIADB_INSTALL_DB } from './mariadb.js';

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

/**
 * Failure detection a few seconds after a node dies, but not so eager that a busy 2-core machine
 * makes healthy nodes suspect each other (PT2S did, now and then).
 */
const PROVIDER_TIMEOUTS = [
  'evs.keepalive_period=PT1S',
  'evs.inactive_check_period=PT1S',
  'evs.suspect_timeout=PT3S',
  'evs.inactive_timeout=PT6S',
  'evs.install_timeout=PT6S',
  'gcache.size=64M',
  // A joiner applying its IST on a busy machine lags: let it, rather than pause every commit.
  'gcs.fc_limit=128',
].join(';');

interface Ports {
  sql: number;
  gcomm: number;
  ist: number;
}

/**
 * One MariaDB Galera node of a test cluster: its own data folder, SQL port, group communication
 * port and IST port on loopback, root without a password (grant tables skipped).
 */
export class GaleraNode {
  child: ChildProcess | null = null;

  constructor(
    readonly cluster: GaleraCluster,
    readonly index: number,
    readonly dir: string,
    readonly ports: Ports,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get address(): string {
    return `127.0.0.1:${this.ports.sql}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  private args(extra: string[]): string[] {
    return [
      '--no-defaults',
      `--datadir=${this.dataDir}`,
      `--socket=${join(this.dir, 'mariadbd.sock')}`,
      `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
      `--port=${this.ports.sql}`,
      '--bind-address=127.0.0.1',
      '--skip-grant-tables',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=300',
      '--user=root',
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      `--wsrep-cluster-name=${this.cluster.name}`,
      `--wsrep-cluster-address=gcomm://${this.cluster.nodes.map((n) => `127.0.0.1:${n.ports.gcomm}`).join(',')}`,
      `--wsrep-node-name=node${this.index + 1}`,
      `--wsrep-node-address=127.0.0.1:${this.ports.gcomm}`,
      `--wsrep-node-incoming-address=127.0.0.1:${this.ports.sql}`,
      // State transfer: every data folder is seeded from the bootstrapped node before its first
      // start, so a joiner only ever needs an incremental transfer (IST, from the donor's gcache).
      // Galera still runs the SST script in "bypass" mode for it; mysqldump's only connects to
      // the joiner's SQL port (rsync's daemon, running as root, drops to `nobody` and cannot
      // write the data folder, so it fails here).
      '--wsrep-sst-method=mysqldump',
      `--wsrep-sst-receive-address=127.0.0.1:${this.ports.sql}`,
      `--wsrep-provider-options=base_host=127.0.0.1;base_port=${this.ports.gcomm};ist.recv_addr=127.0.0.1:${this.ports.ist};${PROVIDER_TIMEOUTS}`,
      ...extra,
    ];
  }

  /**
   * The position the data folder holds: after a clean stop grastate.dat has it; after a crash
   * (seqno -1) `mariadbd --wsrep-recover` reads it from InnoDB, as the packaged
   * galera_recovery script does before a start.
   */
  recoverPosition(): string {
    const state = readFileSync(join(this.dataDir, 'grastate.dat'), 'utf8');
    const uuid = /uuid:\s*(\S+)/.exec(state)?.[1];
    const seqno = /seqno:\s*(-?\d+)/.exec(state)?.[1];
    if (uuid && seqno && seqno !== '-1') return `${uuid}:${seqno}`;
    const log = join(this.dir, 'recover.log');
    const res = spawnSync(MARIADBD, this.args(['--wsrep-recover', `--log-error=${log}`]), {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const text = `${res.stdout}${res.stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`;
    const m = /Recovered position:\s*(\S+:-?\d+)/.exec(text);
    if (!m?.[1]) throw new Error(`no recovered position for node${this.index + 1}: ${text}`);
    return m[1];
  }

  async start(opts: { bootstrap?: boolean; position?: string } = {}): Promise<void> {
    const extra: string[] = [];
    if (opts.bootstrap) extra.push('--wsrep-new-cluster');
    if (opts.position) extra.push(`--wsrep-start-position=${opts.position}`);
    const log = openSync(join(this.dir, 'mariadbd.log'), 'a');
    // A process group of its own: stopping it stops the state-transfer scripts it runs too.
    const child = spawn(MARIADBD, this.args(extra), {
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    this.child = child;
  }

  /** Waits until the node is in the primary component and ready for statements. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`node${this.index + 1} exited: see ${this.dir}`);
      const s = await this.status().catch(() => null);
      if (s?.wsrep_ready === 'ON' && s.wsrep_cluster_status === 'Primary') return;
      if (Date.now() > deadline) {
        throw new Error(`node${this.index + 1} not ready: ${JSON.stringify(s)} (see ${this.dir})`);
      }
      await sleep(250);
    }
  }

  async status(): Promise<Record<string, string>> {
    const rows = (await this.query(
      '',
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_incoming_addresses', 'wsrep_local_cert_failures', 'wsrep_local_bf_aborts')",
    )) as { Variable_name: string; Value: string }[];
    return Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  }

  async query(database: string, sql: string, params: unknown[] = []): Promise<unknown[]> {
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      port: this.ports.sql,
      user: 'root',
      ...(database ? { database } : {}),
      connectTimeout: 2000,
    });
    try {
      const [rows] = await c.query(sql, params);
      return rows as unknown[];
    } finally {
      await c.end();
    }
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  /** A clean stop (SIGTERM): grastate.dat keeps the position. */
  async stop(): Promise<void> {
    await this.stopWith('SIGTERM');
  }

  private async stopWith(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    signalGroup(child, 'SIGCONT');
    signalGroup(child, sig);
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  /** Starts a node that was killed or stopped again, from its recovered position (IST). */
  async rejoin(): Promise<void> {
    await this.start({ position: this.recoverPosition() });
    await this.waitReady();
  }

  killSync(): void {
    signalGroup(this.child, 'SIGCONT');
    signalGroup(this.child, 'SIGKILL');
    this.child = null;
  }
}

/**
 * A MariaDB Galera cluster of `size` nodes on loopback, in a temporary folder of its own, from
 * Debian's mariadb-server and galera-4 packages. How it starts (docs/scaling.md, "Test cluster"):
 * the first node is installed and bootstrapped (--wsrep-new-cluster), the `databases` are created,
 * it is stopped cleanly and its data folder copied to the others, which then join from the same
 * position (an IST of the few membership events since, no full state transfer). `destroy()` (and
 * an exit hook, if the test process dies first) kills every node and removes the folder.
 */
export class GaleraCluster {
  readonly nodes: GaleraNode[] = [];
  private forget: () => void = () => undefined;

  private constructor(
    readonly dir: string,
    readonly name: string,
  ) {}

  static async start(size: number, databases: string[] = []): Promise<GaleraCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-galera-'));
    const cluster = new GaleraCluster(dir, `gatehouse-test-${process.pid}`);
    cluster.forget = atExit(() => cluster.destroySync());
    try {
      for (let i = 0; i < size; i++) {
        const ports = { sql: await freePort(), gcomm: await freePort(), ist: await freePort() };
        const nodeDir = join(dir, `node${i + 1}`);
        mkdirSync(nodeDir);
        cluster.nodes.push(new GaleraNode(cluster, i, nodeDir, ports));
      }
      const first = cluster.nodes[0] as GaleraNode;
      const install = spawnSync(
        MARIADB_INSTALL_DB,
        [
          '--no-defaults',
          `--datadir=${first.dataDir}`,
          '--skip-test-db',
          '--auth-root-authentication-method=normal',
          `--user=${process.env.USER ?? 'root'}`,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (install.status !== 0) {
        throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
      }
      await first.start({ bootstrap: true });
      await first.waitReady();
      for (const db of databases) {
        await first.query(
          '',
          `CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
      }
      if (size > 1) {
        await first.stop();
        const position = first.recoverPosition();
        for (const node of cluster.nodes.slice(1)) {
          cpSync(first.dataDir, node.dataDir, { recursive: true });
          const state = join(node.dataDir, 'grastate.dat');
          writeFileSync(
            state,
            readFileSync(state, 'utf8').replace('safe_to_bootstrap: 1', 'safe_to_bootstrap: 0'),
          );
          rmSync(join(node.dataDir, 'galera.cache'), { force: true });
        }
        await first.start({ bootstrap: true, position });
        await first.waitReady();
        // One joiner at a time: two at once make the donor serve both and slow the start.
        for (const node of cluster.nodes.slice(1)) {
          await node.start({ position });
          await node.waitReady();
        }
      }
      return cluster;
    } catch (err) {
      cluster.destroySync();
      throw err;
    }
  }

  node(i: number): GaleraNode {
    const n = this.nodes[i];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  /** A DATABASE_URL naming every node, starting with node `first` (failover order). */
  url(database: string, first = 0): string {
    const order = this.nodes.map((_, i) => this.node((first + i) % this.nodes.length).address);
    return `mysql://root@${order.join(',')}/${database}`;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    this.destroySync();
  }

  private destroySync(): void {
    this.forget();
    for (const n of this.nodes) n.killSync();
    if (existsSync(this.dir) && !process.env.GALERA_KEEP) {
      // Killed a moment ago: a node may still be closing files; rmSync retries ENOTEMPTY/EBUSY.
      rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  }
}
