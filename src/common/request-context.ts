import { RouteConfig } from '@nestjs/platform-fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';

/** What every log line and audit entry written while serving a request can learn about it. */
export interface RequestContext {
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
 * Before Node 24 (and on 22 without `--experimental-async-context-frame`), AsyncLocalStorage
 * carries its store through promise hooks: while it is enabled, every promise of the process
 * (whichever request made it) runs three hooks, about 13% of the CPU of a cached `GET /users/me`.
 * There, the storage is turned off once no request has needed a context for a second (see
 * `releaseContext`). Async context frames (Node 24) cost nothing per promise and are left alone.
 */
const PROMISE_HOOKS = propagatesThroughPromiseHooks();

function propagatesThroughPromiseHooks(): boolean {
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  if (flags.includes('--no-async-context-frame')) return true;
  if (flags.includes('--experimental-async-context-frame')) return false;
  return Number(process.versions.node.split('.')[0]) < 24;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False on routes served without a request context (`@NoRequestContext()`). */
    requestContext?: boolean;
  }
}

/**
 * Marks a read-only route that is served without a request context, because it writes nothing
 * that would carry one (no audit entry but a refused credential's, whose request id the auth
 * guard passes explicitly). Gatehouse's hot reads get it through `@HotRead()`
 * (src/common/http/hot-read.ts), which implies it; the benchmark's reference route uses it alone.
 * On Node before 24 it is what lets the storage be off while only such routes are being served.
 */
export function NoRequestContext(): MethodDecorator {
  return RouteConfig({ requestContext: false });
}

/** Whether a route (its Fastify `config`) is served in a request context. */
export function routeHasContext(config: { requestContext?: boolean } | undefined): boolean {
  return config?.requestContext !== false;
}

const CONTEXT = Symbol('gatehouse:request-context');

/** The context a request was opened with (none on `@NoRequestContext()` routes). */
export function contextOf(req: object): RequestContext | undefined {
  return (req as { [CONTEXT]?: RequestContext })[CONTEXT];
}

/** Requests (and work they left behind) whose context is still in use. */
let holds = 0;
/** Whether the storage may be on: set by every `run`, cleared when it is turned off. */
let on = false;

/**
 * Whether every promise of the process is paying for the request context now (promise hooks on).
 * For tests and diagnostics.
 */
export function contextCostsPromises(): boolean {
  return PROMISE_HOOKS && on;
}

/** Keeps the storage on until the matching `releaseContext`. */
function holdContext(): void {
  holds++;
}

/**
 * How long no request may have held a context before the storage is turned off. Turning it off
 * and on costs more than it saves when done at every idle turn: measured on a public route (every
 * request holding a context, the storage going off between turns), 87 µs of CPU per request and
 * 2 MB surviving each scavenge, against 57 µs and 81 KB when it stayed on. A second keeps it on
 * under any load that has requests with a context, and off under one of hot reads alone.
 */
export const OFF_AFTER_IDLE_MS = 1000;
/** When the last hold ended (`performance.now()`), while none is held. */
let idleSince = 0;
let offTimer: NodeJS.Timeout | null = null;

/** Ends a hold; when none has been held for `OFF_AFTER_IDLE_MS`, the storage is turned off. */
function releaseContext(): void {
  holds--;
  if (holds > 0 || !PROMISE_HOOKS) return;
  idleSince = performance.now();
  offTimer ??= setTimeout(turnOffWhenIdle, OFF_AFTER_IDLE_MS).unref();
}

/**
 * From a timer, never inside a promise callback (turning promise hooks off between a callback's
 * "before" and "after" would unbalance Node's async id stack). `run` turns the storage on again
 * for the next request that needs it.
 */
function turnOffWhenIdle(): void {
  offTimer = null;
  if (holds > 0) return;
  const wait = idleSince + OFF_AFTER_IDLE_MS - performance.now();
  if (wait > 0) {
    offTimer = setTimeout(turnOffWhenIdle, wait).unref();
    return;
  }
  storage.disable();
  on = false;
}

/**
 * Opens the context of a request: held until its response has closed, so that what runs before
 * the handler (body parsing, hooks, errors answered there) is in it; the handler holds it for
 * itself too (`runHandlerInContext`), past the close when its client leaves before the answer.
 */
export function openRequestContext(
  req: object,
  requestId: string,
  response: ServerResponse,
): RequestContext {
  const context: RequestContext = { requestId, response };
  (req as { [CONTEXT]?: RequestContext })[CONTEXT] = context;
  holdContext();
  response.once('close', releaseContext);
  return context;
}

/**
 * Runs `fn` in `context`; when it is already the current one (a request without a body reaches its
 * handler in the context its first hook set), `fn` just runs.
 */
export function runInContext<T>(context: RequestContext, fn: () => T): T {
  if (storage.getStore() === context) return fn();
  on = true;
  return storage.run(context, fn);
}

/**
 * Runs a route handler in the request's context, held until the handler has finished (its promise
 * settled), even when the client went away before: an audit entry written after that still names
 * the request and its impersonation.
 */
export function runHandlerInContext<T>(context: RequestContext, handler: () => T): T {
  holdContext();
  let result: T;
  try {
    result = runInContext(context, handler);
  } catch (err) {
    releaseContext();
    throw err;
  }
  if (result instanceof Promise) releaseWhenSettled(result);
  else releaseContext();
  return result;
}

/** Ends a hold once `work` has settled, whichever way. */
function releaseWhenSettled(work: Promise<unknown>): void {
  work.then(releaseContext, releaseContext);
}

/**
 * Keeps the current request's context on until `work` settles: for work a request starts and does
 * not wait for (a failed sign-in counted in the background), whose audit entries and log lines
 * still name the request. Returns `work`.
 */
export function inRequestBackground<T>(work: Promise<T>): Promise<T> {
  if (!storage.getStore()) return work;
  holdContext();
  releaseWhenSettled(work);
  return work;
}

/**
 * Runs `task` at the next turn, after the answer has been written, in the current request's
 * context (its audit entries and log lines still name the request). For work whose outcome the
 * caller must not learn from the answer's timing (a password-reset mail). `task` is given its own
 * error handler: nothing is awaiting it.
 */
export function afterAnswer(task: () => Promise<void>, onError: (err: unknown) => void): void {
  const context = storage.getStore();
  if (context) holdContext();
  setImmediate(() => {
    const run = (): Promise<void> => task().catch(onError);
    if (!context) return void run();
    releaseWhenSettled(runInContext(context, run));
  });
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

/**
 * Marks the request as made through an impersonation session (audit entries carry it). Set on the
 * request's own context, never on whatever context happens to be current.
 */
export function setRequestImpersonation(
  req: object,
  impersonation: { by: { id: string; email: string }; reason: string },
): void {
  const context = contextOf(req);
  if (context) context.impersonation = impersonation;
}

/** The impersonation the request being served acts under, or null. */
export function currentImpersonation(): {
  by: { id: string; email: string };
  reason: string;
} | null {
  return storage.getStore()?.impersonation ?? null;
}
