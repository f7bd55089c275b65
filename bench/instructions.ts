import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsOfDump } from './lib/callgrind.js';
import { freePort } from './lib/proc.js';

/**
 * Instructions a request costs a server, counted by valgrind's callgrind: the one A/B measure that
 * holds on a shared host, where two runs of the same build differ by 10 to 30% in CPU time a
 * request (docs/performance.md). The server runs under callgrind; after INSTR_WARMUP requests the
 * counters are zeroed (`callgrind_control -z`), INSTR_REQUESTS more are sent, and the counts are
 * dumped (`-d`): instructions a request on the event loop's thread and on all threads. Only user
 * space is counted (a system call's kernel work is not), and the other threads' counts (GC, the
 * compiler) move more from run to run than the main thread's (within 5 to 10%).
 *
 *   INSTR_SCRIPT       server script (default dist/bench/servers/hello-app.js)
 *   INSTR_PATH         path requested (default /api/v1/hello)
 *   INSTR_AUTH         Authorization header, if any
 *   INSTR_WARMUP / INSTR_REQUESTS / INSTR_CONNECTIONS   5000 / 2000 / 16
 *
 * The server gets this environment, with NODE_ENV=production, LOG_LEVEL=info, an in-memory SQLite
 * database and a secret key unless they are set. It takes about two minutes (start-up under
 * callgrind is most of it).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;
const script = env.INSTR_SCRIPT ?? 'dist/bench/servers/hello-app.js';
const path = env.INSTR_PATH ?? '/api/v1/hello';
const headers: Record<string, string> = env.INSTR_AUTH ? { authorization: env.INSTR_AUTH } : {};
const warmup = Number(env.INSTR_WARMUP ?? '5000');
const requests = Number(env.INSTR_REQUESTS ?? '2000');
const connections = Number(env.INSTR_CONNECTIONS ?? '16');

/** Sends exactly `amount` requests (autocannon's own count) and says how many were 2xx. */
async function send(url: string, amount: number): Promise<number> {
  const r = await autocannon({ url, headers, connections, amount, timeout: 120 });
  return r['2xx'];
}

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  }
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-instr-'));
  const out = join(work, 'callgrind.out');
  const port = await freePort();
  // callgrind_control finds the server through vgdb, whose files are named after HOST: both sides
  // must see the same value.
  const shared = { ...env, HOST: '127.0.0.1' };
  const server = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}`,
      process.execPath,
      join(root, script),
    ],
    {
      cwd: root,
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        DATABASE_URL: 'sqlite::memory:',
        SECRET_KEY: 'instructions-secret-key-instructions-0123456789',
        DATA_DIR: join(work, 'data'),
        ...shared,
        PORT: String(port),
      },
      stdio: ['ignore', openSync(join(work, 'server.stdout'), 'w'), 'ignore'],
    },
  );
  const url = `http://127.0.0.1:${port}${path}`;
  try {
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode})`);
      if (Date.now() > deadline) throw new Error('the server did not answer within 5 minutes');
      try {
        if ((await fetch(url, { headers })).status < 500) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await send(url, warmup);
    const control = (flag: string): void => {
      execFileSync('callgrind_control', [flag, String(server.pid)], {
        env: shared,
        stdio: 'ignore',
      });
    };
    control('-z');
    const ok = await send(url, requests);
    control('-d');
    if (ok !== requests) throw new Error(`${requests - ok} of ${requests} requests were not 2xx`);
    const counts = countsOfDump(out);
    const all = counts.reduce((a, c) => a + c.instructions, 0);
    const eventLoop = counts.find((c) => c.thread === 1)?.instructions ?? all;
    process.stdout.write(
      `${script} ${path}: ${Math.round(eventLoop / requests)} instructions a request on the event loop's thread, ${Math.round(all / requests)} on all threads (${requests} requests after ${warmup})\n`,
    );
  } finally {
    server.kill('SIGKILL');
    if (server.exitCode === null) await once(server, 'exit');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
