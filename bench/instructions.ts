import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsOfDump } from './lib/callgrind.js';
import { startServer } from './lib/proc.js';
import { gatehouseNodeFlags, gatehouseProcessEnv } from './lib/start-prod.js';

/**
 * Instructions a request costs a server, counted by valgrind's callgrind: the one A/B measure that
 * holds on a shared host, where two runs of the same build differ by 10 to 30% in CPU time a
 * request (docs/performance.md). The server runs under callgrind; after INSTR_WARMUP requests the
 * counters are zeroed (`callgrind_control -z`), INSTR_REQUESTS more are sent, and the counts are
 * dumped (`-d`): instructions a request on the event loop's thread and on all threads. Only user
 * space is counted (a system call's kernel work is not), and the other threads' counts (GC, the
 * compiler) move more from run to run than the main thread's (within 5 to 10%).
 *
 * Under callgrind a server runs some 50 times slower, so work done by the clock (timers, the
 * event-loop monitor, a cache's expiry) falls on far fewer requests than under real load. The
 * counters are then zeroed again and the server left idle for as long as the counted requests
 * took; that idle count is printed and taken off, as "net of idle".
 *
 *   INSTR_SCRIPT       server script (default dist/bench/servers/hello-app.js)
 *   INSTR_PATH         path requested (default /api/v1/hello)
 *   INSTR_AUTH         Authorization header, if any
 *   INSTR_WARMUP / INSTR_REQUESTS / INSTR_CONNECTIONS   20000 / 2000 / 16
 *   INSTR_NODE_FLAGS   node's flags (default: Gatehouse itself, dist/src/main.js, runs with
 *                      production's, those of `start:prod`, and its MALLOC_ARENA_MAX; the
 *                      references with none, as in `npm run bench`)
 *
 * The server gets this environment, with NODE_ENV=production, LOG_LEVEL=info, an in-memory SQLite
 * database and a secret key unless they are set. It takes about three minutes (start-up and the
 * warm-up under callgrind are most of it).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;
const script = env.INSTR_SCRIPT ?? 'dist/bench/servers/hello-app.js';
const path = env.INSTR_PATH ?? '/api/v1/hello';
const headers: Record<string, string> = env.INSTR_AUTH ? { authorization: env.INSTR_AUTH } : {};
const warmup = Number(env.INSTR_WARMUP ?? '20000');
const requests = Number(env.INSTR_REQUESTS ?? '2000');
const connections = Number(env.INSTR_CONNECTIONS ?? '16');
const isGatehouse = script.endsWith('dist/src/main.js');
const nodeArgs =
  env.INSTR_NODE_FLAGS !== undefined || isGatehouse
    ? gatehouseNodeFlags(root, env.INSTR_NODE_FLAGS)
    : [];

/** Sends exactly `amount` requests (autocannon's own count) and says how many were 2xx. */
async function send(url: string, amount: number): Promise<number> {
  const r = await autocannon({ url, headers, connections, amount, timeout: 120 });
  return r['2xx'];
}

/** A dump's instructions on the event loop's thread (thread 1) and on all threads. */
function totalsOf(counts: { thread: number; instructions: number }[]): {
  eventLoop: number;
  all: number;
} {
  const all = counts.reduce((a, c) => a + c.instructions, 0);
  return { eventLoop: counts.find((c) => c.thread === 1)?.instructions ?? all, all };
}

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  }
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-instr-'));
  const out = join(work, 'callgrind.out');
  const server = await startServer({
    name: `${script} under callgrind`,
    script: join(root, script),
    nodeArgs,
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      '--smc-check=all',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}`,
    ],
    env: {
      ...(isGatehouse ? gatehouseProcessEnv(root) : {}),
      NODE_ENV: env.NODE_ENV ?? 'production',
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      DATABASE_URL: env.DATABASE_URL ?? 'sqlite::memory:',
      SECRET_KEY: env.SECRET_KEY ?? 'instructions-secret-key-instructions-0123456789',
      DATA_DIR: env.DATA_DIR ?? join(work, 'data'),
    },
    readyPath: path,
    stdoutFile: join(work, 'server.stdout'),
    // Start-up under callgrind takes a minute or more.
    timeoutMs: 300_000,
  });
  const url = server.url + path;
  try {
    await send(url, warmup);
    // callgrind_control finds the server through vgdb, whose files are named after HOST: it must
    // see the value the server was started with.
    const control = (flag: string): void => {
      execFileSync('callgrind_control', [flag, String(server.child.pid)], {
        env: { ...env, HOST: '127.0.0.1' },
        stdio: 'ignore',
      });
    };
    control('-z');
    const started = performance.now();
    const ok = await send(url, requests);
    const took = performance.now() - started;
    control('-d');
    if (ok !== requests) throw new Error(`${requests - ok} of ${requests} requests were not 2xx`);
    control('-z');
    await new Promise((r) => setTimeout(r, took));
    control('-d');
    const busy = totalsOf(countsOfDump(out, 1));
    const idle = totalsOf(countsOfDump(out, 2));
    const a = (n: number): number => Math.round(n / requests);
    // Other threads busy while the server idled: V8's compiler was still optimising, so the counts
    // are of a server still warming up (it happened with Gatehouse after 20,000 requests).
    const settling = idle.all - idle.eventLoop > 0.1 * busy.all;
    process.stdout.write(
      `${script} ${path}: ${a(busy.eventLoop - idle.eventLoop)} instructions a request on the event loop's thread, ${a(busy.all - idle.all)} on all threads, net of idle (${requests} requests after ${warmup} in ${(took / 1000).toFixed(1)} s; idle for as long: ${a(idle.eventLoop)} and ${a(idle.all)} a request)\n${settling ? 'Not settled: other threads (the compiler) were busy while the server idled; raise INSTR_WARMUP and run again.\n' : ''}`,
    );
  } finally {
    // The counts are dumped: the end-of-run dump a graceful exit would write is not wanted.
    server.child.kill('SIGKILL');
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
