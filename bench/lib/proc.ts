import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free loopback port, asked from the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in MB (Linux /proc), or null when unavailable. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The fields of a /proc/…/stat file after the command name (which may hold spaces). */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time (user + system) a process has used, in seconds (Linux /proc; clock ticks at 100 Hz).
 * CPU per request is steadier than req/s on a shared machine: it does not depend on how much CPU
 * the neighbours leave us.
 */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = statFields(`/proc/${pid}/stat`);
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export interface Server {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** The first lines of its stdout so far (the peer app prints its set-up there). */
  lines(): string[];
  /** Peak RSS seen by the sampler since the last reset, in MB. */
  peakRss(): number | null;
  resetPeak(): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  script: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  /** Path polled until it answers (any status below 500). */
  readyPath: string;
  /** A stdout line that must appear too (e.g. the peer's set-up line). */
  readyLine?: RegExp;
  /**
   * Where the server's stdout goes. A file, not a pipe into this process: the load generator runs
   * here, on the same cores, and reading thousands of access-log lines a second would take CPU from
   * it (and a pipe the reader falls behind on makes the server's writes wait).
   */
  stdoutFile: string;
  timeoutMs?: number;
  /** A command node runs under, with its arguments (e.g. valgrind and its options). */
  wrapper?: string[];
}

/** Starts a server as a child process on a free loopback port and waits until it answers. */
export async function startServer(opts: StartOptions): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const out = openSync(opts.stdoutFile, 'w');
  const node = [process.execPath, ...(opts.nodeArgs ?? []), opts.script];
  const [command = process.execPath, ...args] = opts.wrapper?.length
    ? [...opts.wrapper, ...node]
    : node;
  const child = spawn(command, args, {
    env: { ...process.env, ...opts.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  const lines = (): string[] => {
    try {
      return readFileSync(opts.stdoutFile, 'utf8')
        .slice(0, 256 * 1024)
        .split('\n')
        .slice(0, 1000);
    } catch {
      return [];
    }
  };
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString();
  });
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null)
      throw new Error(`${opts.name} exited with ${String(exited)} during start-up:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} did not start in time:\n${stderr}`);
    }
    const lineOk = !opts.readyLine || lines().some((l) => opts.readyLine?.test(l));
    if (lineOk) {
      try {
        const res = await fetch(url + opts.readyPath);
        if (res.status < 500) break;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  let peak: number | null = null;
  const sampler = setInterval(() => {
    const now = rssMb(child.pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, 250);
  sampler.unref();

  return {
    name: opts.name,
    url,
    port,
    child,
    lines,
    peakRss: () => {
      const now = rssMb(child.pid);
      return peak === null ? now : Math.max(peak, now ?? 0);
    },
    resetPeak: () => {
      peak = rssMb(child.pid);
    },
    stop: async () => {
      clearInterval(sampler);
      if (exited !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Runs a script to completion and returns its stdout. */
export async function runScript(
  script: string,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited with ${String(code)}: ${err}`));
    });
  });
}

/** Where the machine's CPU went, at one moment (Linux /proc; see cpuShares). */
export interface CpuSnapshot {
  /** /proc/stat's first line: user nice system idle iowait irq softirq steal … in ticks. */
  stat: number[];
  /** Run time (ns, schedstat) of the server's threads at a positive nice (its bcrypt threads). */
  serverNiced: number;
  /** Run time (ns) of the server's other threads (its event loop, V8's and libuv's threads). */
  serverOther: number;
  /** Run time (ns) of this process's threads (the runner: the load generator). */
  runner: number;
}

function threadTimes(pid: number | 'self'): { niced: number; other: number } {
  let niced = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const run = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const nice = Number(statFields(`/proc/${pid}/task/${tid}/stat`)[16]);
      if (nice > 0) niced += run;
      else other += run;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { niced, other };
}

export function cpuSnapshot(serverPid: number | undefined): CpuSnapshot | null {
  if (serverPid === undefined) return null;
  try {
    const server = threadTimes(serverPid);
    const runner = threadTimes('self');
    return {
      stat: (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number),
      serverNiced: server.niced,
      serverOther: server.other,
      runner: runner.niced + runner.other,
    };
  } catch {
    return null;
  }
}

/**
 * The machine's CPU over one or more windows (each a pair of snapshots at its start and its end), in
 * % of all its cores: the server's niced (bcrypt) threads, its other threads, the runner,
 * everything else that ran (other processes, the kernel), idle, and the time the hypervisor gave to
 * other guests (steal).
 */
export function cpuShares(windows: [CpuSnapshot, CpuSnapshot][]): string {
  // The first eight fields of /proc/stat: guest time is already counted in user.
  const d = Array.from({ length: 8 }, (_, i) =>
    windows.reduce((sum, [a, b]) => sum + (b.stat[i] ?? 0) - (a.stat[i] ?? 0), 0),
  );
  const delta = (f: (s: CpuSnapshot) => number): number =>
    windows.reduce((sum, [a, b]) => sum + f(b) - f(a), 0);
  const ticks = d.reduce((x, y) => x + y, 0);
  if (ticks <= 0) return '';
  const tickNs = 1e9 / 100; // USER_HZ
  const pct = (ns: number): number => (100 * ns) / (ticks * tickNs);
  const idle = (100 * ((d[3] ?? 0) + (d[4] ?? 0))) / ticks;
  const steal = (100 * (d[7] ?? 0)) / ticks;
  const niced = pct(delta((s) => s.serverNiced));
  const other = pct(delta((s) => s.serverOther));
  const runner = pct(delta((s) => s.runner));
  const rest = Math.max(0, 100 - idle - steal - niced - other - runner);
  const f = (n: number): string => n.toFixed(1);
  // A server with no niced threads (the peer runs bcrypt on libuv's pool) is one share.
  const server =
    niced > 0
      ? `bcrypt threads (niced) ${f(niced)}%, the server's other threads ${f(other)}%`
      : `the server ${f(other)}%`;
  return `CPU of the window${windows.length > 1 ? 's' : ''}, % of all cores: ${server}, the runner ${f(runner)}%, everything else ${f(rest)}%, idle ${f(idle)}%, steal ${f(steal)}%`;
}
