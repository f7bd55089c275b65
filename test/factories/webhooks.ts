import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestApp } from '../support/app.js';
import { ok, type Auth } from './workspaces.js';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP receiver on 127.0.0.1 (ephemeral port). Each path answers from its own script of
 * statuses (the last one repeats; 200 by default) and keeps every request it got.
 */
export class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const script = this.scripts.get(path) ?? [];
        const status = (script.length > 1 ? script.shift() : script[0]) ?? 200;
        if (status >= 300 && status < 400) res.setHeader('Location', `${path}/redirected`);
        res.writeHead(status).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Answers for `path`, in order; the last repeats. */
  script(path: string, statuses: number[]): void {
    this.scripts.set(path, [...statuses]);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `check` returns a value (not undefined); no fixed wait decides a test's outcome. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  rounds = 600,
): Promise<T> {
  for (let i = 0; i < rounds; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

export async function createWebhook(
  t: TestApp,
  auth: Auth,
  body: { url: string; events: string[]; workspace?: string; description?: string },
) {
  return ok<{ id: string; secret: string; url: string; events: string[] }>(
    t.http.post('/api/v1/webhooks').set(auth).send(body),
    201,
    'create webhook',
  );
}
