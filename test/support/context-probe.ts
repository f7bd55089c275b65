// Run as its own process by test/unit/request-context.test.ts: Node's test runner turns promise
// hooks on in its own processes, so whether the request context leaves them off is seen here.
import type { ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  contextCostsPromises,
  contextOf,
  openRequestContext,
  runHandlerInContext,
} from '#src/common/request-context.js';
import { promiseAsyncId } from './async-context.js';

const req = {};
const res = new EventEmitter();
openRequestContext(req, 'req-probe', res as unknown as ServerResponse);
const context = contextOf(req);
if (!context) throw new Error('no context opened');
const during = await runHandlerInContext(context, async () => ({
  costs: contextCostsPromises(),
  asyncId: await promiseAsyncId(),
}));
res.emit('close');
await nextTurn();
await nextTurn();
const after = { costs: contextCostsPromises(), asyncId: await promiseAsyncId() };
process.stdout.write(JSON.stringify({ before: 0, during, after }));
