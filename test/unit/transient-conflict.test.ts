import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArgumentsHost } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemFilter } from '#src/common/errors/problem.filter.js';

/** The few members of a Fastify reply the filter writes, recorded. */
function recordingResponse() {
  const sent = { status: 0, type: '', body: '', headers: new Map<string, string>() };
  const res = {
    sent: false,
    hasHeader: (name: string) => sent.headers.has(name.toLowerCase()),
    header(name: string, value: string) {
      sent.headers.set(name.toLowerCase(), value);
      return this;
    },
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
  return { sent, res: res as unknown as FastifyReply };
}

function hostFor(req: Partial<FastifyRequest>, res: FastifyReply): ArgumentsHost {
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

describe('the database or the way to it going away mid-request', () => {
  for (const [name, props] of [
    ['a commit the replication layer refused (1180)', { errno: 1180 }],
    ['a connection the server killed (1927)', { errno: 1927 }],
    ['a statement the server interrupted (1317)', { errno: 1317 }],
    ['a fatal driver error of any code', { code: 'ERR_STREAM_DESTROYED', fatal: true }],
    [
      'a query error wrapping one (TypeORM)',
      { driverError: Object.assign(new Error('gone'), { code: 'EPIPE', fatal: true }) },
    ],
  ] as const) {
    it(`answers ${name} as 503 problem+json with Retry-After, not 500`, () => {
      const err = Object.assign(new Error('database away'), props);
      const { sent, res } = recordingResponse();
      new ProblemFilter().catch(
        err,
        hostFor({ originalUrl: '/api/v1/users', url: '/api/v1/users', headers: {} }, res),
      );
      assert.equal(sent.status, 503);
      assert.equal(sent.headers.get('retry-after'), '1');
      const body = JSON.parse(sent.body) as { status: number; detail: string };
      assert.equal(body.status, 503);
      assert.match(body.detail, /database is unavailable/);
    });
  }

  it('still answers an error that is not about the database as a 500', () => {
    const err = Object.assign(new Error('a bug'), { errno: 1054, fatal: false });
    const { sent, res } = recordingResponse();
    new ProblemFilter().catch(
      err,
      hostFor({ originalUrl: '/api/v1/users', url: '/api/v1/users', headers: {} }, res),
    );
    assert.equal(sent.status, 500);
  });
});
