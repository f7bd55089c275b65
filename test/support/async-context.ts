import { executionAsyncId } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The async id a promise callback runs under: 0 unless promise hooks are on in this process (on
 * Node before 24, while an AsyncLocalStorage is enabled). Tells from outside whether every promise
 * is paying for the request context.
 */
export function promiseAsyncId(): Promise<number> {
  return Promise.resolve().then(() => executionAsyncId());
}

/** Polls `ok` every 10 ms until it holds; fails after `timeoutMs` (a bound, not a measurement). */
export async function until(ok: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not reached within ${timeoutMs} ms`);
    await sleep(10);
  }
}
