import { spawnSync } from 'node:child_process';

/** Which cores the server and the load generator get during a throughput measurement. */
export interface CoreSplit {
  /** taskset lists, e.g. "0" and "1" on two cores, "0,1,2,3" and "4,5,6,7" on eight. */
  server: string;
  runner: string;
}

/** The core numbers of a taskset list ("0-3,6" is 0, 1, 2, 3 and 6). */
export function coresOf(list: string): number[] {
  const cores: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return [];
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to; c++) cores.push(c);
  }
  return cores;
}

/**
 * The cores this process may use (by default) split in two halves: the server gets the first, the
 * load generator the second. With one core there is nothing to split (null).
 */
export function coreSplit(
  cores: readonly number[] = coresOf(affinityOf(process.pid) ?? ''),
): CoreSplit | null {
  if (cores.length < 2) return null;
  const half = Math.floor(cores.length / 2);
  return { server: cores.slice(0, half).join(','), runner: cores.slice(half).join(',') };
}

/**
 * Sets the cores every thread of process `pid` may run on (`taskset -a -p -c`); threads it starts
 * later inherit them. False when it could not be done (no taskset, not Linux, the process gone).
 */
export function setAffinity(pid: number, cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  // Read back: taskset -a says nothing of a process that is gone.
  return r.status === 0 && coresOf(affinityOf(pid) ?? '').join(',') === coresOf(cpus).join(',');
}

/** The cores a process may run on, as the kernel lists them (Linux), or null. */
export function affinityOf(pid: number): string | null {
  const r = spawnSync('taskset', ['-p', '-c', String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return /:\s*(\S+)\s*$/.exec(r.stdout)?.[1] ?? null;
}

/**
 * Runs `work` (a load run against the server `serverPid`) with the server on one half of the cores
 * and this process, the load generator, on the other; both get back the cores they had after it. A
 * load generator sharing the server's cores takes CPU from it in proportion to the request rate, so
 * the fastest servers lost the most and the ratios between servers read lower than their costs.
 * Where the split cannot be made, `work` runs as it is and `pinned` is false.
 */
export async function pinnedApart<T>(
  serverPid: number | undefined,
  work: () => Promise<T>,
  split: CoreSplit | null = coreSplit(),
): Promise<{ result: T; pinned: boolean }> {
  const restore: [number, string][] = [];
  const pin = (pid: number, cpus: string): boolean => {
    const before = affinityOf(pid);
    if (before === null || !setAffinity(pid, cpus)) return false;
    restore.push([pid, before]);
    return true;
  };
  const pinned =
    split !== null &&
    serverPid !== undefined &&
    pin(serverPid, split.server) &&
    pin(process.pid, split.runner);
  try {
    return { result: await work(), pinned };
  } finally {
    for (const [pid, cpus] of restore) setAffinity(pid, cpus);
  }
}
