import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArgumentsHost } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemFilter } from '#src/common/errors/problem.filter.js';

/** The few members of an Express response the filter writes, recorded. */
function recordingResponse() {
  const sent = { status: 0, type: '', body: '', headers: new Map<string, string>() };
  const res = {
    headersSent: false,
    hasHeader: (name: string) => sent.headers.has(name.toLowerCase()),
    setHeader: (name: string, value: string) => void sent.headers.set(name.toLowerCase(), value),
    status(code: number) {
      sent.status = code;
      return this;
    },
    type(t: string) {
      sent.type = t;
      return this;
    },
    send(body: string) {
      sent.body = body;
      return this;
    },
  };
  return { sent, res: res as unknown as Response };
}

function hostFor(req: Partial<Request>, res: Response): ArgumentsHost {
  return {
    switchToHttp: () => ({
      getRequest: () => req,
      getResponse: () => res,
      getNext: () => undefined,
    }),
  } as unknown as ArgumentsHost;
}

describe('a transaction conflict left after the retries', () => {
  for (const [name, errno] of [
    ['a deadlock or Galera certification failure', 1213],
    ['a lock wait timeout', 1205],
  ] as const) {
    it(`answers ${name} as 503 problem+json with Retry-After, not 409 or 500`, () => {
      const err = Object.assign(new Error('conflict'), { errno });
      const { sent, res } = recordingResponse();
      new ProblemFilter().catch(
        err,
        hostFor({ originalUrl: '/api/v1/users', url: '/api/v1/users', headers: {} }, res),
      );
      assert.equal(sent.status, 503);
      assert.equal(sent.type, 'application/problem+json');
      assert.equal(sent.headers.get('retry-after'), '1');
      const body = JSON.parse(sent.body) as { status: number; type: string; detail: string };
      assert.equal(body.status, 503);
      assert.match(body.type, /unavailable$/);
      assert.match(body.detail, /retry/);
    });
  }
});
