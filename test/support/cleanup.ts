import type { ChildProcess } from 'node:child_process';

/**
 * Last-resort clean-up for tests that start servers of their own (the Galera nodes, Gatehouse
 * nodes): each registers a synchronous hook that kills what it started and removes its folder.
 * The hooks run when the process exits for any reason Node can see: normal end, an uncaught
 * error, `--test-force-exit` after a timeout, or SIGINT / SIGTERM / SIGHUP (a CI `timeout`, a
 * Ctrl-C), which are turned into an exit here. Only a SIGKILL of the test process itself escapes.
 */
const hooks = new Set<() => void>();
let installed = false;

function runHooks(): void {
  for (const hook of [...hooks]) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // Keep going: the other hooks must still run.
    }
  }
}

export function atExit(hook: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runHooks);
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      process.once(signal, () => {
        console.error(`# ${signal}: stopping the servers this test started`);
        runHooks();
        process.exit(code);
      });
    }
  }
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/**
 * Sends `signal` to the child's whole process group (children are spawned `detached`, so each
 * leads a group of its own: a server's helpers, such as Galera's state-transfer scripts, go too).
 */
export function signalGroup(child: ChildProcess | null, signal: NodeJS.Signals): void {
  const pid = child?.pid;
  if (!pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
