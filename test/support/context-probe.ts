// Run as its own process by test/unit/request-context.test.ts: Node's test runner turns promise
// hooks on in its own processes, so whether the request context leaves them off is seen here.
import type { ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import {
  contextCostsPromises,
  contextOf,
  OFF_AFTER_IDLE_MS,
  openRequestContext,
  runHandlerInContext,
} from '#src/common/request-context.js';
import { promiseAsyncId, until } from './async-context.js';

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
await until(() => !contextCostsPromises(), OFF_AFTER_IDLE_MS + 5000);
const after = { costs: contextCostsPromises(), asyncId: await promiseAsyncId() };
process.stdout.write(JSON.stringify({ before: 0, during, after }));
