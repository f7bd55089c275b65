import assert from 'node:assert/strict';
import type { Response } from 'supertest';

/** Asserts an RFC 9457 problem+json answer with this status, naming `field` when given. */
export function assertProblem(
  res: Response,
  status: number,
  field?: string,
  message?: RegExp,
): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.title, 'string');
  assert.equal(typeof res.body.detail, 'string');
  if (field !== undefined) {
    const errors = (res.body.errors ?? []) as { field: string; message: string }[];
    const hit = errors.find((e) => e.field === field);
    assert.ok(hit, `no error names ${field}: ${res.text}`);
    if (message) assert.match(hit.message, message);
  }
}
