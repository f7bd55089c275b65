import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atExit, signalGroup } from './cleanup.js';
import { freePort } from './listen.js';

const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

export interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
  ms: number;
  /** The Retry-After header (seconds) a 503 carries. */
  retryAfter?: string;
}

/**
 * The built server (dist/src/main.js) as a child process: one Gatehouse node of a cluster test.
 * Keeps its port across a stop and a start, as a node behind a load balancer would.
 */
export class GatehouseProcess {
  child: ChildProcess | null = null;
  readonly output: string[] = [];
  /** Requests sent and not yet answered (a load balancer drains a node before stopping it). */
  inFlight = 0;
  private forget: () => void = () => undefined;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(name: string, env: Record<string, string>): Promise<GatehouseProcess> {
    const node = new GatehouseProcess(name, await freePort(), env);
    await node.start();
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        PUBLIC_URL: `http://127.0.0.1:${this.port}`,
        SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
        BCRYPT_COST: '4',
        RATE_LIMIT_SIGNIN: '0',
        REGISTRATION: 'open',
        LOG_LEVEL: 'warn',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, killed whole by kill() and by the exit hook.
      detached: true,
    });
    this.child = child;
    this.forget();
    this.forget = atExit(() => signalGroup(child, 'SIGKILL'));
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line && this.output.length < 5000) this.output.push(line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // Generous: the first node runs every migration, each DDL replicated to the whole cluster.
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited:\n${this.output.join('\n')}`);
      const res = await this.call('GET', '/health/live').catch(() => null);
      if (res?.status === 200) return;
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`${this.name} not up in time:\n${this.output.join('\n')}`);
      }
      await sleep(200);
    }
  }

  /** SIGTERM and wait for the graceful shutdown to finish. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 30_000);
    await gone;
    clearTimeout(timer);
    this.child = null;
    this.forget();
  }

  kill(): void {
    signalGroup(this.child, 'SIGKILL');
    this.child = null;
    this.forget();
  }

  /** Waits until every request sent to this node has its answer (or gave up). */
  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(50);
  }

  /** One request on a connection of its own (no keep-alive), abandoned after `timeoutMs`. */
  call(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; timeoutMs?: number } = {},
  ): Promise<Answer> {
    const start = Date.now();
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    this.inFlight++;
    return new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: false,
          headers: {
            ...(payload ? { 'content-type': 'application/json' } : {}),
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            connection: 'close',
          },
          // Set-up calls wait long on a busy machine; the load phase passes its client timeout.
          timeout: opts.timeoutMs ?? 60_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let body: Record<string, unknown> = {};
            try {
              body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              body = { text };
            }
            resolve({
              status: res.statusCode ?? 0,
              type: String(res.headers['content-type'] ?? ''),
              body,
              ms: Date.now() - start,
              ...(res.headers['retry-after']
                ? { retryAfter: String(res.headers['retry-after']) }
                : {}),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in time`)));
      req.on('error', reject);
      req.end(payload);
    }).finally(() => this.inFlight--);
  }
}
