import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LOOP_DELAY_RESOLUTION_MS } from '#src/config/config.js';
import { call, expectOk, field, Skip } from './lib/http.js';
import {
  load,
  probe,
  storm,
  combine,
  type LoadResult,
  type ProbeResult,
  type StormSpec,
} from './lib/load.js';
import { coreSplit, coresOf, pinnedApart } from './lib/cores.js';
import { machine } from './lib/machine.js';
import { roundOrder } from './lib/order.js';
import { gatehouseNodeFlags, gatehouseProcessEnv } from './lib/start-prod.js';
import {
  cpuSeconds,
  cpuShares,
  cpuSnapshot,
  runScript,
  type CpuSnapshot,
  startServer,
  type Server,
} from './lib/proc.js';
import { summarise, type ProfileSummary } from './lib/profile.js';
import { resetMysqlDatabase, seedScale, type ScaleSeed } from './lib/seed.js';

/**
 * `npm run bench`: every scenario against servers started as child processes on loopback, each with
 * its reference in the same run, appended as a dated section to bench/RESULTS.md. Settings (env):
 *   BENCH_SECONDS      seconds per measurement (default 8)
 *   BENCH_SIGNIN_ROUNDS   rounds a sign-in storm is measured in, the bound read between them
 *                         (default 3)
 *   BENCH_SIGNIN_SECONDS  measured window of each sign-in round (default BENCH_SECONDS)
 *   BENCH_CONNECTIONS  concurrent connections for throughput runs (default 16)
 *   BENCH_ROUNDS       rounds the ceiling scenario interleaves its targets in (default 4)
 *   BENCH_PROCESSES    processes each ceiling server is started in; rounds alternate between them
 *                      (default 2)
 *   BCRYPT_COST        bcrypt cost for Gatehouse, the peer and the bound (default 12)
 *   BENCH_MYSQL_URL    mysql://user@host:port/<name containing "bench">: run Gatehouse and the peer
 *                      on MySQL (the database is dropped and re-created) and enable the scale scenario
 *   BENCH_SCALE_USERS / _GROUPS / _PROJECTS  scale sizes (defaults 10000 / 100 / 20)
 *   BENCH_ONLY         comma list of scenarios: ceiling,signin,peer,scale,revocation,profile
 *                      (default all but profile)
 *   BENCH_REDIS_URL    Redis of the revocation scenario (default redis://127.0.0.1:6379/14)
 *   BENCH_PROFILE      1 to add a CPU profile of the session hot path (also via BENCH_ONLY=profile)
 *   BENCH_PROFILE_CREDENTIAL  the profile's credential: session (default), api-key or jwt
 *   BENCH_PROFILE_ROUTE       the profiled route: me (default, GET /users/me) or permissions
 *                             (GET /projects/:id/permissions?userId=, the caller's own)
 *   BENCH_PIN          1 to put each throughput run's server on one half of the cores and the
 *                      runner (the load generator) on the other (default: both share every core)
 *   BENCH_LABEL        free text put in the section title (e.g. "short run")
 *   BENCH_RESULTS      output file (default bench/RESULTS.md)
 */

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = resolve(here, '..', '..');
const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? '8');
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? '16');
/** Rounds the ceiling scenario splits each measurement into (see `ceiling`). */
const ROUNDS = Math.max(1, Number(env.BENCH_ROUNDS ?? '4'));
/**
 * Processes each ceiling server runs in (see `ceiling`): a Gatehouse process keeps the speed it
 * started with, and two starts of the same build differed by up to 30% in CPU per request.
 */
const PROCESSES = Math.max(1, Math.min(ROUNDS, Number(env.BENCH_PROCESSES ?? '2')));
const COST = Number(env.BCRYPT_COST ?? '12');
const MYSQL_URL = env.BENCH_MYSQL_URL ?? '';
const ONLY = new Set(
  (env.BENCH_ONLY ?? 'ceiling,signin,peer,scale,revocation').split(',').map((s) => s.trim()),
);
/** Redis for the revocation scenario (database 14, apart from the tests' 15). */
const REDIS_URL_FOR_BENCH = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
if (env.BENCH_PROFILE === '1') ONLY.add('profile');
const RESULTS = resolve(root, env.BENCH_RESULTS ?? 'bench/RESULTS.md');
const API = '/api/v1';
/**
 * The "who am I" route measured for each credential kind: GET /users/me once the users branch has
 * landed, else the auth module's whoami (same work: resolve the credential, load the user).
 */
const ME_PATHS = [`${API}/users/me`, `${API}/auth/whoami`];
const SIGNIN_CONNECTIONS = Number(
  env.BENCH_SIGNIN_CONNECTIONS ?? String(availableParallelism() * 4),
);
const PROBE_RATE = Number(env.BENCH_PROBE_RATE ?? '50');
/** Seconds a sign-in storm runs before its measured window (see storm() in lib/load.ts). */
const SIGNIN_WARMUP = 3;
/**
 * Seconds of load on the cheap route before a sign-in storm's first round. The probe's 50 req/s
 * and 9 sign-ins a second leave a freshly started server running the shared HTTP path (Node's
 * parser, Fastify, Nest, the guards) in V8's baseline code for minutes, where a server in service
 * has long had it optimised; a perf profile of the storm's event loop was mostly baseline code.
 */
const SIGNIN_JIT_WARMUP = 2;
/** Gatehouse's event-loop delay monitor's interval (its servers inherit this environment). */
const LOOP_DELAY_RESOLUTION_MS = Number(
  env.METRICS_LOOP_DELAY_RESOLUTION_MS ?? String(DEFAULT_LOOP_DELAY_RESOLUTION_MS),
);
/**
 * A sign-in storm is measured in rounds, each a warm-up and a window, with the pure-bcrypt bound
 * read before, between and after them (see `signin`): this machine's speed drifts by several
 * percent within a minute, and a bound read only before and after one long storm followed that
 * drift coarsely. At cost 12 about 9 sign-ins end per second, so one sign-in more or less in the
 * three 8 s windows moves the ratio by 0.5%.
 */
const SIGNIN_ROUNDS = Math.max(1, Number(env.BENCH_SIGNIN_ROUNDS ?? '3'));
const SIGNIN_SECONDS = Number(env.BENCH_SIGNIN_SECONDS ?? String(SECONDS));

const PASSWORD = 'bench password long enough 123';
const SECRET = 'bench-secret-key-bench-secret-key-0123456789';

interface Row {
  scenario: string;
  what: string;
  result?: LoadResult;
  rss?: number | null;
  /** Server CPU per answered request, in microseconds. */
  cpuUs?: number | null;
  ratio?: string;
  target?: string;
  note?: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));

function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a && b ? `${(a / b).toFixed(2)}x` : '–';
}

function log(msg: string): void {
  process.stdout.write(`[bench] ${msg}\n`);
}

/** One load run against a server: its result, the server's RSS peak and CPU per request. */
interface Measured {
  r: LoadResult;
  rss: number | null;
  cpuUs: number | null;
  /** Where the machine's CPU went during the window (see cpuShares), when measured. */
  cpuShares?: string;
  /**
   * How busy the server and this process (the load generator) were over the run, in % of one core
   * and of this process's cores: a run whose load generator is near 100% measured the client too.
   */
  busy?: { server: number | null; runner: number; runnerCores: number };
}

/**
 * The cores of a throughput run with BENCH_PIN=1 (see `pinnedApart`): the server on one half, this
 * process (the load generator) on the other. By default both share every core (docs/bench.md,
 * "Cores", says what each way measures).
 */
const SPLIT = env.BENCH_PIN === '1' ? coreSplit() : null;
/** Whether every throughput run so far was made with the cores split (false once one was not). */
let pinnedRuns = SPLIT !== null;

async function measure(server: Server, spec: Parameters<typeof load>[0]): Promise<Measured> {
  server.resetPeak();
  const pid = server.child.pid;
  const { result, pinned } = await pinnedApart(
    pid,
    async () => {
      const cpu0 = cpuSeconds(pid);
      const own0 = process.cpuUsage();
      const wall0 = performance.now();
      const r = await load(spec);
      const wallS = (performance.now() - wall0) / 1000;
      const own = process.cpuUsage(own0);
      return { r, cpu0, cpu1: cpuSeconds(pid), wallS, ownS: (own.user + own.system) / 1e6 };
    },
    SPLIT,
  );
  const { r, cpu0, cpu1, wallS, ownS } = result;
  if (!pinned) pinnedRuns = false;
  const cpuUs = cpu0 !== null && cpu1 !== null && r.total ? ((cpu1 - cpu0) * 1e6) / r.total : null;
  const runnerCores = pinned && SPLIT ? coresOf(SPLIT.runner).length : availableParallelism();
  const busy = {
    server: cpu0 !== null && cpu1 !== null && wallS > 0 ? (100 * (cpu1 - cpu0)) / wallS : null,
    runner: wallS > 0 ? (100 * ownS) / wallS / runnerCores : 0,
    runnerCores,
  };
  return { r, rss: server.peakRss(), cpuUs, busy };
}

/** One round of a sign-in storm (see `stormRounds`). */
interface StormRound {
  r: ProbeResult;
  probe: ProbeResult;
  rss: number | null;
  /** The server's CPU seconds over the window. */
  cpu: number | null;
  shares: [CpuSnapshot, CpuSnapshot] | null;
}

/**
 * A sign-in storm against a server, measured in its steady state (see storm()), with the latency
 * probe on the server's cheap route beside it: the probe also runs in the warm-up (JIT compilation
 * of the probe's path; the worst probe of a cold start is the first one, at 20 to 50 ms) and then
 * for the whole window, on a fixed schedule, each request timed from when it was due (see probe()).
 * RSS peak, CPU and the CPU snapshots are the window's. `edges` runs at the window's start and after
 * its probe.
 */
async function stormRound(
  server: Server,
  spec: Omit<StormSpec, 'connections' | 'warmupSeconds' | 'seconds'>,
  cheapRoute: { url: string; headers: Record<string, string> },
  edges: { start?: () => Promise<void>; end?: () => Promise<void> },
): Promise<StormRound> {
  const probeSpec = { ...cheapRoute, connections: 2, rate: PROBE_RATE };
  const run = storm({
    ...spec,
    connections: SIGNIN_CONNECTIONS,
    warmupSeconds: SIGNIN_WARMUP,
    seconds: SIGNIN_SECONDS,
  });
  // Not awaited before the window: on a server whose cheap route queues behind its sign-ins (the
  // peer's), the warm-up's answers come seconds late, and waiting for them moved the window's start
  // (and its CPU readings) past most of the storm.
  const warmUp = probe({ ...probeSpec, seconds: SIGNIN_WARMUP - 1 });
  await run.measuring;
  server.resetPeak();
  const cpu0 = cpuSeconds(server.child.pid);
  const shares0 = cpuSnapshot(server.child.pid);
  const inWindow = (async (): Promise<ProbeResult> => {
    await edges.start?.();
    const probed = await probe({ ...probeSpec, seconds: SIGNIN_SECONDS });
    await edges.end?.();
    return probed;
  })();
  const [shares1, probed] = await Promise.all([
    run.closed.then(() => cpuSnapshot(server.child.pid)),
    inWindow,
    warmUp,
  ]);
  const cpu1 = cpuSeconds(server.child.pid);
  const rss = server.peakRss();
  const r = await run.done;
  return {
    r,
    probe: probed,
    rss,
    cpu: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
    shares: shares0 && shares1 ? [shares0, shares1] : null,
  };
}

/**
 * A sign-in storm in SIGNIN_ROUNDS rounds (see `stormRound`), `between` run after each but the last
 * (Gatehouse's reads the bound then). The combined result counts every round's window: answers and
 * seconds summed, percentiles of all the answers, RSS the highest round's, CPU per answer over all.
 */
async function stormRounds(
  server: Server,
  spec: Omit<StormSpec, 'connections' | 'warmupSeconds' | 'seconds'>,
  cheapRoute: { url: string; headers: Record<string, string> },
  each: {
    start?: () => Promise<void>;
    end?: () => Promise<void>;
    between?: () => Promise<void>;
  } = {},
): Promise<Measured & { probe: ProbeResult; rounds: StormRound[] }> {
  const warm = await load({ ...cheapRoute, seconds: SIGNIN_JIT_WARMUP, connections: 4 });
  if (!warm.ok || warm.non2xx || warm.errors)
    throw new Error(`the cheap route's warm-up failed: ${JSON.stringify(warm)}`);
  const rounds: StormRound[] = [];
  for (let i = 0; i < SIGNIN_ROUNDS; i++) {
    if (i > 0) await each.between?.();
    rounds.push(await stormRound(server, spec, cheapRoute, each));
  }
  const r = combine(rounds.map((x) => x.r));
  const cpus = rounds.map((x) => x.cpu);
  const cpu = cpus.every((c): c is number => c !== null) ? cpus.reduce((a, c) => a + c, 0) : null;
  const rsses = rounds.map((x) => x.rss).filter((x): x is number => x !== null);
  const windows = rounds.map((x) => x.shares);
  const shares = windows.every((w): w is [CpuSnapshot, CpuSnapshot] => w !== null)
    ? cpuShares(windows)
    : '';
  return {
    r,
    rss: rsses.length ? Math.max(...rsses) : null,
    cpuUs: cpu !== null && r.total ? (cpu * 1e6) / r.total : null,
    probe: combine(rounds.map((x) => x.probe)),
    rounds,
    ...(shares ? { cpuShares: shares } : {}),
  };
}

// ---------- databases ----------

function mysqlUrlFor(suffix: string): string {
  const u = new URL(MYSQL_URL);
  u.pathname = `/${u.pathname.replace(/^\//, '')}${suffix}`;
  return u.toString();
}

async function gatehouseDatabase(name: string): Promise<string> {
  if (MYSQL_URL) {
    const url = mysqlUrlFor(name === 'main' ? '' : `_${name}`);
    await resetMysqlDatabase(url);
    return url;
  }
  return `sqlite:${join(work, `${name}.sqlite`)}`;
}

// ---------- Gatehouse ----------

interface Gatehouse {
  server: Server;
  userId: string;
  email: string;
  session: string;
  mePath: string;
}

/** The V8 flags every Gatehouse server of the run gets: start:prod's, or BENCH_NODE_FLAGS. */
const GATEHOUSE_FLAGS = gatehouseNodeFlags(root, env.BENCH_NODE_FLAGS);

async function startGatehouse(
  name: string,
  nodeArgs: string[] = GATEHOUSE_FLAGS,
  script = 'dist/src/main.js',
  extraEnv: Record<string, string> = {},
): Promise<Gatehouse> {
  const databaseUrl = await gatehouseDatabase(name);
  const email = 'bench-admin@example.com';
  const server = await startServer({
    name: `gatehouse-${name}`,
    script: join(root, script),
    stdoutFile: join(work, `gatehouse-${name}.stdout`),
    nodeArgs,
    readyPath: '/health/live',
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      DATA_DIR: join(work, `data-${name}`),
      SECRET_KEY: SECRET,
      BCRYPT_COST: String(COST),
      RATE_LIMIT_SIGNIN: '0',
      LOCKOUT_THRESHOLD: '1000',
      REGISTRATION: 'open',
      ACCESS_TOKEN_MINUTES: '60',
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      // A production server refuses to make its first admin by signup: it is named at start-up.
      BOOTSTRAP_ADMIN_EMAIL: email,
      BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      ...gatehouseProcessEnv(root),
      ...extraEnv,
    },
  });
  const login = await call('POST', `${server.url}${API}/auth/login`, {
    body: { username: email, password: PASSWORD },
  });
  expectOk(login, 'POST /auth/login (the bootstrap admin)', [200]);
  const userId = String(field(login.body, 'user', 'id'));
  const session = String(field(login.body, 'token'));
  let mePath = ME_PATHS[ME_PATHS.length - 1] ?? '';
  for (const p of ME_PATHS) {
    if ((await call('GET', server.url + p, { token: session })).status === 200) {
      mePath = p;
      break;
    }
  }
  return { server, userId, email, session, mePath };
}

async function apiKeyOf(g: Gatehouse): Promise<string> {
  const res = await call('POST', `${g.server.url}${API}/users/${g.userId}/api-keys`, {
    token: g.session,
    body: { name: 'bench' },
  });
  expectOk(res, 'POST /users/:id/api-keys');
  // The `key` field (API.md); `prefix` also starts with gth_ but is only its visible start.
  const key = field(res.body, 'key');
  if (typeof key !== 'string' || !key.startsWith('gth_'))
    throw new Error(`no gth_ secret in the api-key response: ${JSON.stringify(res.body)}`);
  return key;
}

async function accessTokenOf(g: Gatehouse): Promise<string> {
  const grant = await call('POST', `${g.server.url}${API}/users/${g.userId}/grants`, {
    token: g.session,
    body: { type: 'user' },
  });
  expectOk(grant, 'POST /users/:id/grants');
  const refreshToken = String(field(grant.body, 'refreshToken'));
  const tok = await call('POST', `${g.server.url}${API}/oauth/token`, {
    body: { grant_type: 'refresh_token', refresh_token: refreshToken },
  });
  expectOk(tok, 'POST /oauth/token');
  const access = field(tok.body, 'access_token') ?? field(tok.body, 'accessToken');
  if (typeof access !== 'string') throw new Error(`no access token: ${JSON.stringify(tok.body)}`);
  return access;
}

/**
 * The permission check's path for a new project of the bootstrap admin's (their own permissions),
 * after checking that it answers 200 to `token`.
 */
async function ownPermissionsPath(g: Gatehouse, token: string): Promise<string> {
  const path = `${API}/projects/${await projectOf(g)}/permissions?userId=${g.userId}`;
  expectOk(
    await call('GET', g.server.url + path, { token }),
    'GET /projects/:id/permissions',
    [200],
  );
  return path;
}

async function projectOf(g: Gatehouse): Promise<string> {
  const ws = await call('POST', `${g.server.url}${API}/workspaces`, {
    token: g.session,
    body: { title: 'Bench workspace' },
  });
  expectOk(ws, 'POST /workspaces');
  const domain = String(field(ws.body, 'domain'));
  const project = await call('POST', `${g.server.url}${API}/projects`, {
    token: g.session,
    body: { name: 'bench project', workspace: domain },
  });
  expectOk(project, 'POST /projects');
  return String(field(project.body, 'id'));
}

/** Event-loop delay and GC figures from a Gatehouse's /metrics (prom-client's default metrics). */
interface RuntimeMetrics {
  lagP50: number;
  lagP99: number;
  lagMax: number;
  gcSeconds: number;
  gcCount: number;
}

async function runtimeMetrics(url: string): Promise<RuntimeMetrics> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string): number => {
    const re = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm');
    let sum = 0;
    for (const m of text.matchAll(re)) sum += Number(m[1]);
    return sum;
  };
  return {
    lagP50: value('nodejs_eventloop_lag_p50_seconds'),
    lagP99: value('nodejs_eventloop_lag_p99_seconds'),
    lagMax: value('nodejs_eventloop_lag_max_seconds'),
    gcSeconds: value('nodejs_gc_duration_seconds_sum'),
    gcCount: value('nodejs_gc_duration_seconds_count'),
  };
}

// ---------- scenarios ----------

const shared: {
  sessionRps?: number;
  sessionCpu?: number;
  loginRps?: number;
  apiKeyRps?: number;
  apiKeyCpu?: number;
} = {};

/**
 * The three references of the framework ceiling, each a NestJS app with one `GET /api/v1/hello`,
 * and the least the Gatehouse routes must reach against each (the issue's targets).
 */
const REFERENCES = [
  {
    short: 'F+plugins',
    what: "NestJS hello-world on Fastify with Gatehouse's plugins, hooks and logger (hello-app)",
    script: 'dist/bench/servers/hello-app.js',
    min: '0.7x',
  },
  {
    short: 'F bare',
    what: 'NestJS hello-world on bare Fastify: no plugins, hooks, pipes or logger',
    script: 'dist/bench/servers/hello-fastify-bare.js',
    min: '0.5x',
  },
  {
    short: 'Express bare',
    what: 'NestJS hello-world on bare Express: no middleware, no body parser, no logger',
    script: 'dist/bench/servers/hello-express-bare.js',
    min: '3x',
  },
] as const;

/** The targets of the Gatehouse ceiling routes, in the order of REFERENCES. */
const CEILING_TARGET = `${REFERENCES.map((ref) => `≥ ${ref.min} ${ref.short}`).join(' · ')}; RSS ≤ 200 MB`;

/** One server process and the request to load it with. */
interface CeilingRun {
  server: Server;
  spec: Parameters<typeof load>[0];
}

/** One row of the ceiling scenario: its server in PROCESSES processes, measured in rounds. */
interface CeilingTarget {
  what: string;
  /** One per process; round `i` measures `runs[i % runs.length]`. */
  runs: CeilingRun[];
  /** A reference (by its short name), or a Gatehouse route with the issue's targets. */
  reference?: string;
  target?: string;
  /** Keeps the combined figures for the peer scenario's comparisons. */
  share?: (m: Measured) => void;
  rounds: Measured[];
}

/**
 * Several rounds' measurements of one target as one: requests and CPU summed over the rounds (so
 * req/s and CPU per request are over the whole time), RSS the highest peak, p50 the median round's
 * and p99 the worst round's.
 */
function combined(rounds: Measured[]): Measured {
  const sum = (f: (r: LoadResult) => number): number => rounds.reduce((a, m) => a + f(m.r), 0);
  const seconds = sum((r) => r.seconds);
  const ok = sum((r) => r.ok);
  const total = sum((r) => r.total);
  const p50s = rounds.map((m) => m.r.p50).sort((a, b) => a - b);
  const cpuKnown = rounds.every((m) => m.cpuUs !== null);
  const rsss = rounds.map((m) => m.rss).filter((v): v is number => v !== null);
  return {
    r: {
      rps: seconds ? ok / seconds : 0,
      p50: p50s[Math.floor(p50s.length / 2)] ?? 0,
      p99: Math.max(...rounds.map((m) => m.r.p99)),
      total,
      ok,
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      seconds,
    },
    rss: rsss.length ? Math.max(...rsss) : null,
    cpuUs:
      cpuKnown && total ? rounds.reduce((a, m) => a + (m.cpuUs ?? 0) * m.r.total, 0) / total : null,
    ...(rounds.every((m) => m.busy) && seconds
      ? {
          busy: {
            server: rounds.every((m) => m.busy?.server != null)
              ? rounds.reduce((a, m) => a + (m.busy?.server ?? 0) * m.r.seconds, 0) / seconds
              : null,
            runner: rounds.reduce((a, m) => a + (m.busy?.runner ?? 0) * m.r.seconds, 0) / seconds,
            runnerCores: Math.max(...rounds.map((m) => m.busy?.runnerCores ?? 0)),
          },
        }
      : {}),
  };
}

/** A run's note on how busy the server and the load generator were (see Measured.busy). */
function busyNote(m: Measured): string | undefined {
  if (!m.busy) return undefined;
  const server = m.busy.server === null ? '' : `server ${fmt(m.busy.server)}% of a core, `;
  return `${server}load generator ${fmt(m.busy.runner)}% of its core${m.busy.runnerCores === 1 ? '' : 's'}`;
}

/** Pause before each measurement of the ceiling's rounds. */
const SETTLE_MS = 300;

/**
 * The framework ceiling: the three references, Gatehouse's `GET /users/me` by session, API key
 * and JWT, and its permission check (the caller's own permissions in a project) run side by side
 * (every server started first), and are measured in BENCH_ROUNDS rounds
 * of SECONDS / BENCH_ROUNDS each, one target after the other in every round (in an order of the
 * round's own, `roundOrder`, each after a pause of SETTLE_MS), after a warm-up of each. A machine
 * whose speed drifts during the run (neighbours on a shared host) then moves every target alike,
 * instead of whichever was measured at the wrong moment.
 */
async function ceiling(): Promise<void> {
  const servers: Server[] = [];
  try {
    const targets: CeilingTarget[] = [];
    for (const ref of REFERENCES) {
      const runs: CeilingRun[] = [];
      for (let i = 1; i <= PROCESSES; i++) {
        const name = `${ref.short.replace(/\W+/g, '-')}-${i}`;
        const hello = await startServer({
          name: `hello ${ref.short} #${i}`,
          script: join(root, ref.script),
          stdoutFile: join(work, `hello-${name}.stdout`),
          readyPath: `${API}/hello`,
          env: {
            NODE_ENV: 'production',
            SECRET_KEY: SECRET,
            DATABASE_URL: 'sqlite::memory:',
            LOG_LEVEL: env.LOG_LEVEL ?? 'info',
            DATA_DIR: join(work, `data-hello-${name}`),
          },
        });
        servers.push(hello);
        runs.push({
          server: hello,
          spec: { url: `${hello.url}${API}/hello`, seconds: 0, connections: CONNECTIONS },
        });
      }
      targets.push({
        what: `${ref.what} (reference ${ref.short})`,
        runs,
        reference: ref.short,
        rounds: [],
      });
    }
    // The first process is `main`, the others main2...
    const gs: Gatehouse[] = [];
    for (let i = 1; i <= PROCESSES; i++) {
      const gi = await startGatehouse(i === 1 ? 'main' : `main${i}`);
      servers.push(gi.server);
      gs.push(gi);
    }
    const g = gs[0];
    if (!g) throw new Error('no Gatehouse process started');
    const credentials: [string, (gi: Gatehouse) => Promise<string>, ((m: Measured) => void)?][] = [
      [
        'session token',
        (gi) => Promise.resolve(gi.session),
        (m) => {
          shared.sessionRps = m.r.rps;
          shared.sessionCpu = m.cpuUs ?? undefined;
        },
      ],
      [
        'API key (gth_)',
        (gi) => apiKeyOf(gi),
        (m) => {
          shared.apiKeyRps = m.r.rps;
          shared.apiKeyCpu = m.cpuUs ?? undefined;
        },
      ],
      ['JWT access token', (gi) => accessTokenOf(gi)],
    ];
    for (const [label, get, share] of credentials) {
      try {
        const runs: CeilingRun[] = [];
        for (const gi of gs) {
          const token = await get(gi);
          runs.push({
            server: gi.server,
            spec: {
              url: `${gi.server.url}${gi.mePath}`,
              headers: { authorization: `Bearer ${token}` },
              seconds: 0,
              connections: CONNECTIONS,
            },
          });
        }
        targets.push({
          what: `GET ${g.mePath} by ${label}`,
          runs,
          target: CEILING_TARGET,
          ...(share ? { share } : {}),
          rounds: [],
        });
      } catch (err) {
        if (!(err instanceof Skip)) throw err;
        rows.push({
          scenario: 'ceiling',
          what: `GET ${g.mePath} by ${label}`,
          note: `skipped: ${err.message}`,
        });
      }
    }

    // "May they?": the caller's own permissions in a project of theirs, in every process.
    try {
      const runs: CeilingRun[] = [];
      for (const gi of gs) {
        const path = await ownPermissionsPath(gi, gi.session);
        runs.push({
          server: gi.server,
          spec: {
            url: gi.server.url + path,
            headers: { authorization: `Bearer ${gi.session}` },
            seconds: 0,
            connections: CONNECTIONS,
          },
        });
      }
      targets.push({
        what: 'GET /projects/:id/permissions?userId= (one project permission, session)',
        runs,
        rounds: [],
      });
    } catch (err) {
      if (!(err instanceof Skip)) throw err;
      rows.push({
        scenario: 'ceiling',
        what: 'project permission check',
        note: `skipped: ${err.message}`,
      });
    }

    log(
      `framework ceiling: warm-up, then ${ROUNDS} rounds of ${targets.length} targets (${PROCESSES} processes each)`,
    );
    for (const t of targets) for (const run of t.runs) await load({ ...run.spec, seconds: 1 });
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of roundOrder(targets, round)) {
        const run = t.runs[round % t.runs.length];
        if (!run) continue;
        // The previous target's server and this process finish with its connections first.
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        t.rounds.push(await measure(run.server, { ...run.spec, seconds: SECONDS / ROUNDS }));
      }
    }

    const results = targets.map((t) => ({ t, m: combined(t.rounds) }));
    const refs = results
      .filter(({ t }) => t.reference !== undefined)
      .map(({ t, m }) => ({ short: t.reference ?? '', rps: m.r.rps, cpu: m.cpuUs ?? undefined }));
    /**
     * Throughput against each reference, then in brackets the reference's CPU per request over the
     * route's, in the same order (steadier on a busy machine).
     */
    const against = (rps: number, cpu: number | null): string =>
      `${refs.map((ref) => `${ratio(rps, ref.rps)} ${ref.short}`).join(' · ')} (CPU ${refs
        .map((ref) => ratio(ref.cpu, cpu ?? undefined))
        .join(' · ')})`;
    for (const { t, m } of results) {
      t.share?.(m);
      rows.push({
        scenario: 'ceiling',
        what: t.what,
        result: m.r,
        rss: m.rss,
        cpuUs: m.cpuUs,
        ratio: against(m.r.rps, m.cpuUs),
        ...(t.target ? { target: t.target } : {}),
        note: busyNote(m),
      });
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}

async function signin(): Promise<void> {
  const measureBound = async (): Promise<{ perSecond: number; inFlight: number }> => {
    log(`sign-in: pure bcrypt bound at cost ${COST}`);
    const out = await runScript(join(root, 'dist/bench/servers/bcrypt-bound.js'), {
      BCRYPT_COST: String(COST),
      SECONDS: String(SECONDS),
    });
    return JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      perSecond: number;
      inFlight: number;
    };
  };
  // The bound is read before the storm, between its rounds and after it, and each round is judged
  // against the mean of the two readings around it: this machine's speed drifts by several percent
  // within a minute (ten 4 s readings in a row spanned 9.15 to 9.71 compares/s), and a bound read
  // only before and after one long storm (8.0% apart in one run) put the ratio as far off.
  const bounds = [await measureBound()];
  const boundRow: Row = {
    scenario: 'signin',
    what: `pure bcrypt bound: bcrypt.compare/s, cost ${COST}, all cores (async API, ${bounds[0]?.inFlight ?? '–'} in flight, separate process)`,
  };
  rows.push(boundRow);
  let loginRow: Row | undefined;
  let rounds: StormRound[] = [];

  const g = await startGatehouse('signin');
  try {
    log(`sign-in: login storm in ${SIGNIN_ROUNDS} rounds with a latency probe on the cheap route`);
    // Each round runs from its warm-up straight into the measured window, and only the sign-ins
    // that end inside the window count (see storm()): the bcrypt threads are in steady state then,
    // as they are in the pure-bcrypt bound.
    const before: RuntimeMetrics[] = [];
    const after: RuntimeMetrics[] = [];
    const pid = g.server.child.pid;
    const signIns = await stormRounds(
      g.server,
      { url: `${g.server.url}${API}/auth/login`, body: { username: g.email, password: PASSWORD } },
      { url: g.server.url + g.mePath, headers: { authorization: `Bearer ${g.session}` } },
      {
        // prom-client's event-loop delay histogram (perf_hooks.monitorEventLoopDelay) restarts at
        // every scrape: this one starts the window's; GC time is the difference of the counters.
        start: async () => void before.push(await runtimeMetrics(g.server.url)),
        end: async () => void after.push(await runtimeMetrics(g.server.url)),
        // Gatehouse is stopped (SIGSTOP) while the bound is read between rounds, so its idle timers
        // take nothing from the bound (the first and last readings are taken with it not running).
        between: async () => {
          if (pid === undefined) throw new Error('Gatehouse has no pid');
          process.kill(pid, 'SIGSTOP');
          try {
            bounds.push(await measureBound());
          } finally {
            process.kill(pid, 'SIGCONT');
          }
        },
      },
    );
    rounds = signIns.rounds;
    const probeRun = signIns.probe;
    if (before.length !== SIGNIN_ROUNDS || after.length !== SIGNIN_ROUNDS)
      throw new Error('a storm window did not scrape /metrics');
    shared.loginRps = signIns.r.rps;
    loginRow = {
      scenario: 'signin',
      what: `POST /auth/login (cost ${COST}, ${SIGNIN_CONNECTIONS} connections, ${SIGNIN_ROUNDS} × ${SIGNIN_SECONDS} s)`,
      result: signIns.r,
      rss: signIns.rss,
      target: '≥ 0.9x bound; RSS ≤ 200 MB',
      ...(signIns.cpuShares ? { note: signIns.cpuShares } : {}),
    };
    rows.push(loginRow);
    rows.push({
      scenario: 'signin',
      what: `GET ${g.mePath} during the storm (${PROBE_RATE} req/s probe)`,
      result: probeRun,
      rss: signIns.rss,
      target: 'p99 ≤ 20 ms',
      note: `p99 ${fmt(probeRun.p99, 1)} ms, max ${fmt(probeRun.max, 1)} ms over ${probeRun.total} requests on a fixed schedule, each timed from when it was due`,
    });
    // Each sample of the delay monitor is the time between two wake-ups of its timer: the delay is
    // what exceeds the timer's interval.
    const worst = (f: (m: RuntimeMetrics) => number): number =>
      Math.max(0, Math.max(...after.map(f)) - LOOP_DELAY_RESOLUTION_MS / 1000);
    const gc = (f: (m: RuntimeMetrics) => number): number =>
      after.reduce((sum, m, i) => sum + f(m) - f(before[i] ?? m), 0);
    rows.push({
      scenario: 'signin',
      what: "Gatehouse's event loop during the storm (perf_hooks, via /metrics)",
      note: `loop delay beyond the monitor's ${LOOP_DELAY_RESOLUTION_MS} ms sampling interval: p50 ${fmt(worst((m) => m.lagP50) * 1000, 1)} ms, p99 ${fmt(worst((m) => m.lagP99) * 1000, 1)} ms, max ${fmt(worst((m) => m.lagMax) * 1000, 1)} ms (the worst round's); GC ${fmt(gc((m) => m.gcSeconds) * 1000, 0)} ms in ${gc((m) => m.gcCount)} pauses over the ${SIGNIN_ROUNDS * SIGNIN_SECONDS} s of the windows`,
    });
  } finally {
    await g.server.stop();
  }
  bounds.push(await measureBound());
  // Each round against the mean of the readings before and after it; the whole storm against the
  // window-weighted mean of those (all windows are equally long).
  const around = rounds.map(
    (_, i) => ((bounds[i]?.perSecond ?? 0) + (bounds[i + 1]?.perSecond ?? 0)) / 2,
  );
  const perSecond = around.length ? around.reduce((a, b) => a + b, 0) / around.length : 0;
  boundRow.note = `${perSecond.toFixed(2)} compares/s: readings ${bounds.map((b) => b.perSecond.toFixed(2)).join(', ')} before, between and after the storm's rounds, each round judged against the mean of the two around it`;
  if (loginRow?.result) {
    loginRow.ratio = ratio(loginRow.result.rps, perSecond);
    const each = rounds.map((x, i) => ratio(x.r.rps, around[i])).join(', ');
    loginRow.note = [`rounds ${each}`, loginRow.note ?? ''].filter(Boolean).join('; ');
  }
}

async function peer(): Promise<void> {
  const dbUrl = MYSQL_URL ? mysqlUrlFor('_peer') : `sqlite:${join(work, 'peer.sqlite')}`;
  if (MYSQL_URL) await resetMysqlDatabase(dbUrl);
  log(`peer: better-auth on ${MYSQL_URL ? 'MySQL' : 'SQLite'}`);
  const p = await startServer({
    name: 'better-auth',
    script: join(root, 'dist/bench/peers/better-auth-app.js'),
    stdoutFile: join(work, 'better-auth.stdout'),
    readyPath: '/health',
    readyLine: /^PEER /,
    env: { BCRYPT_COST: String(COST), PEER_DATABASE_URL: dbUrl, NODE_ENV: 'production' },
  });
  try {
    const setup = JSON.parse(
      (p.lines().find((l) => l.startsWith('PEER ')) ?? 'PEER {}').slice(5),
    ) as { email: string; password: string; apiKey: string };
    const origin = p.url;
    const signIn = await fetch(`${p.url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ email: setup.email, password: setup.password }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    if (signIn.status !== 200 || !cookie) throw new Error(`peer sign-in failed: ${signIn.status}`);

    // Measured as Gatehouse's storm is: in steady state after the same warm-up, with the same
    // probe on its cheap route beside it, so both sign-in rates pay for the same work around them.
    const login = await stormRounds(
      p,
      {
        url: `${p.url}/api/auth/sign-in/email`,
        headers: { origin },
        body: { email: setup.email, password: setup.password },
      },
      { url: `${p.url}/api/auth/get-session`, headers: { cookie } },
    );
    const probeRun = login.probe;
    rows.push({
      scenario: 'peer',
      what: `better-auth sign-in/email (bcrypt cost ${COST})`,
      result: login.r,
      rss: login.rss,
      cpuUs: login.cpuUs,
      ratio: `Gatehouse ${ratio(shared.loginRps, login.r.rps)}`,
      target: 'Gatehouse ≥ 1.0x',
      note: [
        `its get-session probe during the storm (${PROBE_RATE} req/s): p99 ${fmt(probeRun.p99, 1)} ms, max ${fmt(probeRun.max, 1)} ms`,
        login.cpuShares ?? '',
      ]
        .filter(Boolean)
        .join('; '),
    });

    const sess = await measure(p, {
      url: `${p.url}/api/auth/get-session`,
      headers: { cookie },
      seconds: SECONDS,
      connections: CONNECTIONS,
    });
    rows.push({
      scenario: 'peer',
      what: 'better-auth get-session (cookie, no cookie cache)',
      result: sess.r,
      rss: sess.rss,
      cpuUs: sess.cpuUs,
      ratio: `Gatehouse ${ratio(shared.sessionRps, sess.r.rps)} (CPU ${ratio(sess.cpuUs ?? undefined, shared.sessionCpu)})`,
      target: 'Gatehouse ≥ 2x',
    });

    const key = await measure(p, {
      url: `${p.url}/api/auth/get-session`,
      headers: { 'x-api-key': setup.apiKey },
      seconds: SECONDS,
      connections: CONNECTIONS,
    });
    rows.push({
      scenario: 'peer',
      what: 'better-auth get-session by API key (x-api-key, api-key plugin)',
      result: key.r,
      rss: key.rss,
      cpuUs: key.cpuUs,
      ratio: `Gatehouse ${ratio(shared.apiKeyRps, key.r.rps)} (CPU ${ratio(key.cpuUs ?? undefined, shared.apiKeyCpu)})`,
    });
  } finally {
    await p.stop();
  }
}

async function scale(): Promise<void> {
  if (!MYSQL_URL) {
    rows.push({
      scenario: 'scale',
      what: 'scale of data',
      note: 'skipped: MySQL only; set BENCH_MYSQL_URL',
    });
    return;
  }
  const g = await startGatehouse('scale');
  try {
    const sizes = {
      users: Number(env.BENCH_SCALE_USERS ?? '10000'),
      groups: Number(env.BENCH_SCALE_GROUPS ?? '100'),
      projects: Number(env.BENCH_SCALE_PROJECTS ?? '20'),
    };
    log(`scale: seeding ${sizes.users} users, ${sizes.groups} groups, ${sizes.projects} projects`);
    const seed: ScaleSeed = await seedScale(mysqlUrlFor('_scale'), sizes);
    notes.push(`Scale seed: ${seed.summary}`);
    const auth = { authorization: `Bearer ${g.session}` };

    /**
     * Each query twice: at 16 connections (throughput; latency there is mostly queueing on 2
     * cores) and at 1 connection (requests back to back: the p99 of the work itself, which is what
     * the latency targets are about).
     */
    const both = async (what: string, url: string, target: string): Promise<void> => {
      for (const connections of [CONNECTIONS, 1]) {
        const m = await measure(g.server, {
          url: g.server.url + url,
          headers: auth,
          seconds: SECONDS,
          connections,
        });
        rows.push({
          scenario: 'scale',
          what: `${what}, ${connections} connection${connections === 1 ? '' : 's'}`,
          result: m.r,
          rss: m.rss,
          cpuUs: m.cpuUs,
          target: connections === 1 ? target : undefined,
        });
      }
    };

    const search = `${API}/users?query=${encodeURIComponent(seed.searchPrefix)}&limit=50`;
    const first = await call('GET', g.server.url + search, { token: g.session });
    if (first.status === 200 && Array.isArray(field(first.body, 'items'))) {
      await both(
        `prefix search GET /users?query=${seed.searchPrefix} (${sizes.users} users)`,
        search,
        'p99 < 20 ms (1M)',
      );
      // A deep keyset page: walk pages of 500 to the middle (at most 40), then measure the next one.
      let cursor: string | null = null;
      const pages = Math.min(40, Math.floor(sizes.users / 1000));
      for (let i = 0; i < pages; i++) {
        const page = await call(
          'GET',
          `${g.server.url}${API}/users?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { token: g.session },
        );
        const next = field(page.body, 'nextCursor');
        if (typeof next !== 'string') break;
        cursor = next;
      }
      await both(
        `keyset page GET /users?limit=50&cursor=<after ${pages * 500} users>`,
        `${API}/users?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        'p99 < 20 ms (1M)',
      );
    } else {
      rows.push({
        scenario: 'scale',
        what: 'prefix search and keyset paging of users',
        note: `skipped: GET /users answered ${first.status} (route not in this build yet)`,
      });
    }

    if (seed.permission) {
      const probe = await call('GET', g.server.url + seed.permission.path, { token: g.session });
      expectOk(probe, 'GET /projects/:id/permissions', [200]);
      notes.push(
        `Scale permission probe answers: ${JSON.stringify(field(probe.body, 'permissions') ?? probe.body).slice(0, 300)}`,
      );
      await both(
        `effective permission through groups (${seed.permission.label})`,
        seed.permission.path,
        'p99 < 5 ms',
      );
    } else {
      rows.push({
        scenario: 'scale',
        what: 'effective-permission check through groups',
        note: `skipped: ${seed.skipReason ?? 'no project data'}`,
      });
    }
  } finally {
    await g.server.stop();
  }
}

let profile: ProfileSummary | null = null;

/**
 * What "revocation holds at the next request on every instance" costs: the cached session check
 * without Redis (each request reads principal_version, one primary-key read) against the same with
 * Redis vouching for the caches (no read), one after the other in the same run.
 */
async function revocation(): Promise<void> {
  const modes: [string, Record<string, string>][] = [
    ['no Redis: principal_version read per request', {}],
    ['REDIS_URL set: no read while subscribed', { REDIS_URL: REDIS_URL_FOR_BENCH }],
  ];
  let baseline: { rps: number; cpu: number | null } | undefined;
  for (const [label, extra] of modes) {
    const g = await startGatehouse(
      `revocation-${baseline ? 'redis' : 'plain'}`,
      undefined,
      undefined,
      extra,
    );
    try {
      log(`revocation: ${g.mePath} by session, ${label}`);
      const m = await measure(g.server, {
        url: g.server.url + g.mePath,
        headers: { authorization: `Bearer ${g.session}` },
        seconds: SECONDS,
        connections: CONNECTIONS,
      });
      const r = baseline
        ? `no Redis ${ratio(baseline.rps, m.r.rps)} of this (CPU ${ratio(m.cpuUs ?? undefined, baseline.cpu ?? undefined)})`
        : undefined;
      rows.push({
        scenario: 'revocation',
        what: `GET ${g.mePath} by session, ${label}`,
        result: m.r,
        rss: m.rss,
        cpuUs: m.cpuUs,
        ...(r ? { ratio: r } : {}),
      });
      baseline ??= { rps: m.r.rps, cpu: m.cpuUs };
    } finally {
      await g.server.stop();
    }
  }
}

/** The credentials the profile scenario can send (BENCH_PROFILE_CREDENTIAL). */
const PROFILE_CREDENTIALS: Record<
  string,
  { label: string; token: (g: Gatehouse) => Promise<string> }
> = {
  session: { label: 'session', token: (g) => Promise.resolve(g.session) },
  'api-key': { label: 'API key', token: apiKeyOf },
  jwt: { label: 'JWT access token', token: accessTokenOf },
};

async function profileHotPath(): Promise<void> {
  const dir = join(work, 'cpu-prof');
  mkdirSync(dir, { recursive: true });
  const g = await startGatehouse(
    'profile',
    [...GATEHOUSE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`],
    'dist/bench/servers/gatehouse-profiled.js',
  );
  try {
    const by = PROFILE_CREDENTIALS[env.BENCH_PROFILE_CREDENTIAL ?? 'session'];
    if (!by)
      throw new Error(
        `BENCH_PROFILE_CREDENTIAL: one of ${Object.keys(PROFILE_CREDENTIALS).join(', ')}`,
      );
    const route = env.BENCH_PROFILE_ROUTE ?? 'me';
    if (route !== 'me' && route !== 'permissions')
      throw new Error('BENCH_PROFILE_ROUTE: one of me, permissions');
    const token = await by.token(g);
    const path = route === 'me' ? g.mePath : await ownPermissionsPath(g, token);
    log(`profile: ${path} by ${by.label} under --cpu-prof`);
    const m = await measure(g.server, {
      url: g.server.url + path,
      headers: { authorization: `Bearer ${token}` },
      seconds: SECONDS,
      connections: CONNECTIONS,
    });
    rows.push({
      scenario: 'profile',
      what: `GET ${path} by ${by.label} under --cpu-prof (profiler overhead included)`,
      result: m.r,
      rss: m.rss,
      cpuUs: m.cpuUs,
    });
  } finally {
    await g.server.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) {
    notes.push('profile: no .cpuprofile was written');
    return;
  }
  profile = summarise(join(dir, file), SECONDS + 0.5);
  const keep = env.BENCH_PROFILE_OUT;
  if (keep) writeFileSync(keep, readFileSync(join(dir, file)));
}

// ---------- report ----------

function report(started: Date, elapsedS: number): string {
  const m = machine();
  const db = MYSQL_URL
    ? `MySQL-compatible (${new URL(MYSQL_URL).host}), Gatehouse and peer`
    : 'SQLite (better-sqlite3, WAL) for Gatehouse and the peer';
  const label = env.BENCH_LABEL ? ` — ${env.BENCH_LABEL}` : '';
  const cmd = [
    'BENCH_SECONDS',
    'BENCH_CONNECTIONS',
    'BENCH_ROUNDS',
    'BENCH_SIGNIN_SECONDS',
    'BENCH_PROBE_RATE',
    'BCRYPT_COST',
    'BENCH_ONLY',
    'BENCH_MYSQL_URL',
    'BENCH_SCALE_USERS',
    'BENCH_PROFILE',
    'BENCH_PROFILE_CREDENTIAL',
    'BENCH_PROFILE_ROUTE',
    'BENCH_REDIS_URL',
  ]
    .filter((k) => env[k])
    .map((k) => `${k}=${k === 'BENCH_MYSQL_URL' ? '<mysql url>' : env[k]}`)
    .join(' ');
  const lines = [
    `## ${started.toISOString().replace('T', ' ').slice(0, 16)} UTC${label}`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, ${m.os}, Node ${m.node}; commit ${m.commit}`,
    `- Database: ${db}`,
    `- Command: \`${cmd ? `${cmd} ` : ''}npm run bench\` (${SECONDS} s per measurement, ${CONNECTIONS} connections, sign-in ${SIGNIN_CONNECTIONS} connections in ${SIGNIN_ROUNDS} rounds of ${SIGNIN_SECONDS} s, each after ${SIGNIN_WARMUP} s of warm-up, bcrypt cost ${COST}; whole run ${Math.round(elapsedS)} s)`,
    `- Load generator: in the runner process, autocannon for the throughput runs${pinnedRuns && SPLIT ? ` on cores ${SPLIT.runner}, the server measured on cores ${SPLIT.server} (taskset, every core given back after each run)` : ', sharing every core with the server'}; the sign-in storms and the storm's latency probe use a light client of the runner's own (requests prepared once; the storm counts the sign-ins that end in its window after a warm-up, in rounds with the pure-bcrypt bound read before, between (Gatehouse stopped) and after them, each round judged against the mean of the two readings around it; the probe sends on a fixed schedule and times each request from when it was due); every server is its own child process on 127.0.0.1; req/s counts 2xx answers only; RSS is the server's peak during the measurement; CPU µs/req is the server process's user+system CPU time over the requests answered (steadier than req/s on a shared machine). Ceiling: the three references, the three /users/me rows and the permission check run side by side and are measured in ${ROUNDS} interleaved rounds (each in an order of its own, after a pause of ${SETTLE_MS} ms), each server started in ${PROCESSES} processes with the rounds alternating between them (a process keeps the speed it started with) (each row's req/s and CPU over all its rounds, RSS the highest process's, p50 of the median round, p99 of the worst); ratios: req/s against each of the three hello-world references of the same run (F+plugins: Fastify with Gatehouse's plugins, hooks and logger; F bare: Fastify with nothing; Express bare: Express with no middleware), then in brackets each reference's CPU per request over the route's, in the same order; the targets are the issue's (≥ 0.7x F+plugins, ≥ 0.5x F bare, ≥ 3x Express bare).`,
    '',
    '| Scenario | What | req/s | p50 ms | p99 ms | RSS MB | CPU µs/req | Ratio | Target | Note |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
  ];
  for (const r of rows) {
    const x = r.result;
    const bad = x && (x.non2xx || x.errors) ? `${x.non2xx} non-2xx, ${x.errors} errors` : '';
    lines.push(
      `| ${r.scenario} | ${r.what} | ${x ? fmt(x.rps, x.rps < 100 ? 2 : 0) : '–'} | ${x ? fmt(x.p50, 1) : '–'} | ${x ? fmt(x.p99, 1) : '–'} | ${fmt(r.rss)} | ${fmt(r.cpuUs)} | ${r.ratio ?? ''} | ${r.target ?? ''} | ${[r.note, bad].filter(Boolean).join('; ')} |`,
    );
  }
  for (const n of notes) lines.push('', `- ${n}`);
  if (profile) {
    lines.push(
      '',
      `CPU profile of the server during the profiled run (last ${fmt(profile.totalMs / 1000, 1)} s of the process, i.e. the load run), self time by area:`,
      '',
    );
    lines.push('| Area | Self % |', '| --- | ---: |');
    for (const a of profile.areas.slice(0, 12)) lines.push(`| ${a.area} | ${a.selfPct} |`);
    lines.push(
      '',
      'Top functions by self time:',
      '',
      '| Function | Where | Self % |',
      '| --- | --- | ---: |',
    );
    for (const f of profile.frames.slice(0, 15))
      lines.push(`| ${f.name} | ${f.where} | ${f.selfPct} |`);
  }
  lines.push('');
  return lines.join('\n');
}

function appendResults(section: string): void {
  const header =
    '# Benchmark results\n\nAppended by `npm run bench` (see docs/bench.md). Newest section last; old sections are kept.\n\n';
  const before = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : header;
  writeFileSync(RESULTS, `${before.trimEnd()}\n\n${section}`);
}

async function main(): Promise<void> {
  const started = new Date();
  const t0 = Date.now();
  log(`results go to ${RESULTS}; scenarios: ${[...ONLY].join(', ')}; ${SECONDS} s each`);
  try {
    if (ONLY.has('ceiling')) await ceiling();
    if (ONLY.has('signin')) await signin();
    if (ONLY.has('peer')) await peer();
    if (ONLY.has('scale')) await scale();
    if (ONLY.has('revocation')) await revocation();
    if (ONLY.has('profile')) await profileHotPath();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const section = report(started, (Date.now() - t0) / 1000);
  appendResults(section);
  process.stdout.write(`\n${section}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
