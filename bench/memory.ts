import autocannon from 'autocannon';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composition, type HeapComposition } from './lib/heap-snapshot.js';
import { call, expectOk, field } from './lib/http.js';
import { machine } from './lib/machine.js';
import { startServer, type Server } from './lib/proc.js';
import { gatehouseNodeFlags, gatehouseProcessEnv } from './lib/start-prod.js';

/**
 * `npm run bench:memory`: what a Gatehouse server's memory is made of, started as `start:prod`
 * starts it (its node flags and MALLOC_ARENA_MAX), on SQLite. Two processes, so that one's heap
 * snapshot (which itself takes memory) does not count in the other's readings:
 *
 * 1. idle, a few seconds after start-up: RSS split into anonymous memory and what is mapped from
 *    files (the node binary's own code above all), V8's heap spaces as committed and used (from
 *    the server's /metrics), then a heap snapshot summed up by V8's node types, the scripts'
 *    source text by package, and objects by constructor;
 * 2. the same after MEM_LOAD_SECONDS (default 10) of `GET /api/v1/users/me` by session over 16
 *    connections, with the peak RSS during the load.
 *
 * Prints a Markdown section to paste into docs/performance.md ("Memory"). About a minute.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOAD_SECONDS = Number(process.env.MEM_LOAD_SECONDS ?? '10');
const EMAIL = 'memory-admin@example.com';
const PASSWORD = 'memory bench password long enough 123';
const NODE_FLAGS = gatehouseNodeFlags(root, process.env.BENCH_NODE_FLAGS);

interface Reading {
  rssMb: number;
  anonymousMb: number;
  fileMb: number;
  /** Of `fileMb`, the node binary mapped from disk (shared by every Node process on a machine). */
  nodeBinaryMb: number;
  /** V8's heap spaces: committed and used, MB. */
  spaces: Map<string, { total: number; used: number }>;
  externalMb: number;
}

const mb = (bytes: number): number => bytes / 1048576;
const f1 = (n: number): string => n.toFixed(1);

function kbField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m?.[1] ? Number(m[1]) / 1024 : 0;
}

async function read(server: Server): Promise<Reading> {
  const pid = server.child.pid;
  if (pid === undefined) throw new Error('the server has no pid');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const rss = kbField(rollup, 'Rss');
  const anonymous = kbField(rollup, 'Anonymous');
  // Each mapping's header line names its file; its Rss line follows.
  const node = realpathSync(process.execPath);
  let nodeBinary = 0;
  let current = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) current = header[1] ?? '';
    else if (current === node && line.startsWith('Rss:')) nodeBinary += kbField(line, 'Rss');
  }
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const spaces = new Map<string, { total: number; used: number }>();
  for (const m of metrics.matchAll(
    /^nodejs_heap_space_size_(total|used)_bytes\{space="([a-z_]+)"\} (\d+)/gm,
  )) {
    const [, kind, space = '', bytes] = m;
    const s = spaces.get(space) ?? { total: 0, used: 0 };
    s[kind === 'total' ? 'total' : 'used'] = mb(Number(bytes));
    spaces.set(space, s);
  }
  const external = /^nodejs_external_memory_bytes (\d+)/m.exec(metrics)?.[1];
  return {
    rssMb: rss,
    anonymousMb: anonymous,
    fileMb: rss - anonymous,
    nodeBinaryMb: nodeBinary,
    spaces,
    externalMb: mb(Number(external ?? 0)),
  };
}

/** Asks the server for a heap snapshot (--heapsnapshot-signal) and waits until it is written. */
async function snapshot(server: Server, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  server.child.kill('SIGUSR2');
  const deadline = Date.now() + 120_000;
  let last = -1;
  for (;;) {
    if (Date.now() > deadline) throw new Error('no heap snapshot was written in 2 minutes');
    await new Promise((r) => setTimeout(r, 500));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    // Writing blocks the server's event loop: once it answers again and the size holds, it is done.
    const answers = await fetch(`${server.url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (answers && size > 0 && size === last) return join(dir, file);
    last = size;
  }
}

async function start(work: string, name: string): Promise<Server> {
  return startServer({
    name,
    script: join(root, 'dist/src/main.js'),
    nodeArgs: [...NODE_FLAGS, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${work}`],
    env: {
      ...gatehouseProcessEnv(root),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: `sqlite://${join(work, `${name}.db`)}`,
      DATA_DIR: join(work, `data-${name}`),
      SECRET_KEY: 'memory-secret-key-memory-secret-key-0123456789',
      BCRYPT_COST: '10',
      BOOTSTRAP_ADMIN_EMAIL: EMAIL,
      BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
    },
    readyPath: '/health/live',
    stdoutFile: join(work, `${name}.stdout`),
  });
}

/** Lets start-up's garbage settle: a few seconds idle. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5000));

function readingRow(what: string, r: Reading): string {
  const space = (name: string): { total: number; used: number } =>
    r.spaces.get(name) ?? { total: 0, used: 0 };
  const heapTotal = [...r.spaces.values()].reduce((a, s) => a + s.total, 0);
  const heapUsed = [...r.spaces.values()].reduce((a, s) => a + s.used, 0);
  const parts = ['new', 'old', 'code', 'large_object']
    .map((n) => `${n} ${f1(space(n).total)}/${f1(space(n).used)}`)
    .join(', ');
  return `| ${what} | ${f1(r.rssMb)} | ${f1(r.anonymousMb)} | ${f1(r.fileMb)} (node binary ${f1(r.nodeBinaryMb)}) | ${f1(heapTotal)} / ${f1(heapUsed)} (${parts}) | ${f1(r.externalMb)} |`;
}

function compositionLines(title: string, c: HeapComposition, idle?: HeapComposition): string[] {
  const lines = [
    '',
    `${title}: ${f1(mb(c.totalBytes))} MB in ${c.nodes} nodes.`,
    '',
    `| V8 node type | MB${idle ? ' | change from idle' : ''} |`,
    `| --- | ---:${idle ? ' | ---:' : ''} |`,
  ];
  for (const t of c.byType.filter((t) => t.bytes >= 65536)) {
    const was = idle?.byType.find((x) => x.type === t.type)?.bytes ?? 0;
    const change = mb(t.bytes - was);
    lines.push(
      `| ${t.type} | ${f1(mb(t.bytes))}${idle ? ` | ${change >= 0 ? '+' : ''}${f1(change)}` : ''} |`,
    );
  }
  if (idle) return lines;
  lines.push(
    '',
    `Source text of the ${c.sourceText.scripts} loaded scripts: ${f1(mb(c.sourceText.bytes))} MB, by package:`,
    '',
    '| Package | MB |',
    '| --- | ---: |',
    ...c.sourceText.byPackage.slice(0, 12).map((p) => `| ${p.name} | ${mb(p.bytes).toFixed(2)} |`),
    '',
    'Objects by constructor:',
    '',
    '| Constructor | MB | Count |',
    '| --- | ---: | ---: |',
    ...c.objects.slice(0, 10).map((o) => `| ${o.name} | ${mb(o.bytes).toFixed(2)} | ${o.count} |`),
  );
  return lines;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-memory-'));
  const m = machine();
  const out = [
    `## Memory of a Gatehouse server, ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, ${m.os}, Node ${m.node}; commit ${m.commit}`,
    `- Command: \`npm run bench:memory\`; the server: \`node ${NODE_FLAGS.join(' ')} dist/src/main.js\` on SQLite, NODE_ENV=production`,
    '',
    '| Reading | RSS MB | Anonymous MB | From files MB | V8 heap committed / used MB (space committed/used) | External MB |',
    '| --- | ---: | ---: | --- | --- | ---: |',
  ];

  const idleServer = await start(work, 'idle');
  let idle: HeapComposition;
  try {
    await settle();
    out.push(readingRow('idle, 5 s after start-up', await read(idleServer)));
    idle = composition(await snapshot(idleServer, work));
  } finally {
    await idleServer.stop();
  }

  const loaded = await start(work, 'loaded');
  let after: HeapComposition | null = null;
  try {
    await settle();
    if (LOAD_SECONDS > 0) {
      const login = await call('POST', `${loaded.url}/api/v1/auth/login`, {
        body: { username: EMAIL, password: PASSWORD },
      });
      expectOk(login, 'POST /auth/login (the bootstrap admin)', [200]);
      const token = String(field(login.body, 'token'));
      loaded.resetPeak();
      const r = await autocannon({
        url: `${loaded.url}/api/v1/users/me`,
        headers: { authorization: `Bearer ${token}` },
        connections: 16,
        duration: LOAD_SECONDS,
      });
      const peak = loaded.peakRss();
      out.push(
        readingRow(
          `after ${LOAD_SECONDS} s of GET /users/me by session (${Math.round(r.requests.average)} req/s, peak RSS ${peak === null ? '?' : f1(peak)} MB)`,
          await read(loaded),
        ),
      );
      after = composition(await snapshot(loaded, work));
    }
  } finally {
    await loaded.stop();
  }

  out.push(...compositionLines('Heap snapshot, idle', idle));
  if (after) out.push(...compositionLines('Heap snapshot after the load', after, idle));
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
