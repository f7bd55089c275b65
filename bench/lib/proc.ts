import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
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

/**
 * CPU time (user + system) a process has used, in seconds (Linux /proc; clock ticks at 100 Hz).
 * CPU per request is steadier than req/s on a shared machine: it does not depend on how much CPU
 * the neighbours leave us.
 */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
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
}

/** Starts a server as a child process on a free loopback port and waits until it answers. */
export async function startServer(opts: StartOptions): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const out = openSync(opts.stdoutFile, 'w');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script], {
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
