import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  afterAnswer,
  contextCostsPromises,
  contextOf as requestContextOf,
  currentImpersonation,
  currentRequestId,
  inRequestBackground,
  OFF_AFTER_IDLE_MS,
  openRequestContext,
  runHandlerInContext,
  runInContext,
  setRequestImpersonation,
  type RequestContext,
} from '#src/common/request-context.js';
import { until } from '../support/async-context.js';

/** A response that closes when told to (the context listens for its `close`). */
class FakeResponse extends EventEmitter {
  close(): void {
    this.emit('close');
  }
}

function open(id: string): { req: object; res: FakeResponse } {
  const req = {};
  const res = new FakeResponse();
  openRequestContext(req, id, res as unknown as ServerResponse);
  return { req, res };
}

/** A promise with its resolver, to hold a handler until the test lets it finish. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** The context `open` made for `req`. */
function contextOf(req: object): RequestContext {
  const context = requestContextOf(req);
  assert.ok(context);
  return context;
}

/**
 * Past the moment an unheld storage is turned off: work still pending then shows whether its hold
 * kept its context (without the hold, these tests fail on Node before 24).
 */
const pastTurnOff = () => sleep(OFF_AFTER_IDLE_MS + 300);
const turnedOff = () => until(() => !contextCostsPromises(), OFF_AFTER_IDLE_MS + 5000);

describe('request context', () => {
  it("turns Node's promise hooks off once no request holds it (seen in a process of its own)", () => {
    const probe = fileURLToPath(new URL('../support/context-probe.js', import.meta.url));
    const out = JSON.parse(execFileSync(process.execPath, [probe], { encoding: 'utf8' })) as {
      during: { costs: boolean; asyncId: number };
      after: { costs: boolean; asyncId: number };
    };
    // Before Node 24 the storage runs promise hooks while it is on (a promise callback then has
    // an async id); with async context frames it never does.
    assert.equal(out.during.asyncId > 0, out.during.costs, JSON.stringify(out));
    assert.deepEqual(out.after, { costs: false, asyncId: 0 });
  });

  it('is off (no promise hooks) once no request has held it for a while, and on for the next', async () => {
    const a = open('req-a');
    const seen = await runInContext(contextOf(a.req), async () => {
      await nextTurn();
      return currentRequestId();
    });
    assert.equal(seen, 'req-a');
    a.res.close();
    await turnedOff();
    assert.equal(currentRequestId(), null);

    const b = open('req-b');
    const again = await runInContext(contextOf(b.req), async () => {
      await nextTurn();
      return currentRequestId();
    });
    assert.equal(again, 'req-b');
    b.res.close();
  });

  it("keeps a handler's context, and its impersonation, after its client went away", async () => {
    const a = open('req-gone');
    const g = gate();
    setRequestImpersonation(a.req, {
      by: { id: 'admin-1', email: 'admin@example.com' },
      reason: 'support',
    });
    const handled = runHandlerInContext(contextOf(a.req), async () => {
      await g.wait;
      await nextTurn();
      return { id: currentRequestId(), by: currentImpersonation()?.by.id };
    });
    a.res.close(); // the client left before the answer
    await pastTurnOff();
    g.open();
    assert.deepEqual(await handled, { id: 'req-gone', by: 'admin-1' });
    await turnedOff();
  });

  it("leaves a request's context alone when another request ends", async () => {
    const a = open('req-1');
    const b = open('req-2');
    const g = gate();
    const second = runHandlerInContext(contextOf(b.req), async () => {
      await g.wait;
      return currentRequestId();
    });
    a.res.close();
    await pastTurnOff();
    g.open();
    assert.equal(await second, 'req-2');
    b.res.close();
  });

  it('runs work left for after the answer in the context of its request', async () => {
    const a = open('req-later');
    const done = gate();
    let seen: string | null = 'not run';
    runInContext(contextOf(a.req), () =>
      afterAnswer(
        async () => {
          await pastTurnOff();
          seen = currentRequestId();
          done.open();
        },
        () => assert.fail('the task failed'),
      ),
    );
    a.res.close();
    await done.wait;
    assert.equal(seen, 'req-later');
  });

  it('keeps the context for work the request started and did not wait for', async () => {
    const a = open('req-background');
    const g = gate();
    const work = runHandlerInContext(contextOf(a.req), () => {
      const started = inRequestBackground(
        g.wait.then(async () => {
          await nextTurn();
          return currentRequestId();
        }),
      );
      return Promise.resolve({ started });
    });
    const { started } = await work; // the handler has finished
    a.res.close(); // and the response has closed
    await pastTurnOff();
    g.open();
    assert.equal(await started, 'req-background');
  });

  it('sets an impersonation only on the request it is given', () => {
    const a = open('req-x');
    const b = open('req-y');
    runInContext(contextOf(a.req), () =>
      setRequestImpersonation(b.req, {
        by: { id: 'admin-2', email: 'b@example.com' },
        reason: 'r',
      }),
    );
    assert.equal(runInContext(contextOf(a.req), currentImpersonation), null);
    assert.equal(runInContext(contextOf(b.req), currentImpersonation)?.by.id, 'admin-2');
    a.res.close();
    b.res.close();
  });
});
