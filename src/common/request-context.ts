import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';

/** What every log line and audit entry written while serving a request can learn about it. */
interface RequestContext {
  requestId: string;
  /** Set by the auth guard when the request acts through an impersonation session. */
  impersonation?: { by: { id: string; email: string }; reason: string };
  /** The response being written, to learn whether its client went away (see `clientGoneSignal`). */
  response?: ServerResponse;
  /** Made on the first `clientGoneSignal()` of the request. */
  gone?: AbortSignal;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` (the rest of the request's handling) with the request's id and response in context. When
 * that request's context is already the current one (a request without a body reaches its handler
 * in the context its first hook set), `fn` just runs instead of entering a copy of it again.
 */
export function runWithRequest<T>(
  requestId: string,
  response: ServerResponse | undefined,
  fn: () => T,
): T {
  const current = storage.getStore();
  if (current && response && current.response === response && current.requestId === requestId)
    return fn();
  return storage.run({ requestId, response }, fn);
}

/**
 * Aborts when the client of the request being served goes away (its connection closes) before the
 * answer has been sent; undefined outside a request. Made on first use, so a request that never
 * asks pays nothing. Work queued for the request (a bcrypt comparison waiting for a thread) can be
 * dropped with it instead of being done for nobody.
 */
export function clientGoneSignal(): AbortSignal | undefined {
  const store = storage.getStore();
  const res = store?.response;
  if (!store || !res) return undefined;
  if (!store.gone) {
    const controller = new AbortController();
    if (res.destroyed) {
      if (!res.writableFinished) controller.abort();
    } else {
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
    }
    store.gone = controller.signal;
  }
  return store.gone;
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
