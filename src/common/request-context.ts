import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line and audit entry written while serving a request can learn about it. */
interface RequestContext {
  requestId: string;
  /** Set by the auth guard when the request acts through an impersonation session. */
  impersonation?: { by: { id: string; email: string }; reason: string };
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

/** Marks the request being served as made through an impersonation session (audit entries carry it). */
export function setRequestImpersonation(impersonation: {
  by: { id: string; email: string };
  reason: string;
}): void {
  const store = storage.getStore();
  if (store) store.impersonation = impersonation;
}

/** The impersonation the request being served acts under, or null. */
export function currentImpersonation(): {
  by: { id: string; email: string };
  reason: string;
} | null {
  return storage.getStore()?.impersonation ?? null;
}
