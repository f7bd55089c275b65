import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line and audit entry written while serving a request can learn about it. */
interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (the rest of the request's middleware chain) with the request id in context. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/** The id of the request being served (its `X-Request-Id`), or null outside a request. */
export function currentRequestId(): string | null {
  return storage.getStore()?.requestId ?? null;
}
