import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, uniqueEmail } from '../factories/users.js';
import { API, login, sessionsOf, userRow } from '../factories/auth.js';

const WRONG = 'definitely the wrong password';

describe('per-IP sign-in limit (RATE_LIMIT_SIGNIN=3, no TRUST_PROXY)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ RATE_LIMIT_SIGNIN: '3' });
  });
  after(async () => t.close());

  it('answers the 4th sign-in in a minute with 429 problem+json and Retry-After, ignoring X-Forwarded-For', async () => {
    for (let i = 0; i < 3; i++) {
      // A client cannot dodge the limit by claiming other addresses.
      const res = await login(t, uniqueEmail('x'), WRONG, `203.0.113.${i + 1}`);
      assert.equal(res.status, 401);
    }
    const res = await login(t, uniqueEmail('x'), WRONG, '203.0.113.99');
    assert.equal(res.status, 429);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.body.status, 429);
    const retry = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry > 0 && retry <= 60, `Retry-After ${retry}`);
  });

  it('limits password-reset requests too', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.http.post(`${API}/auth/password-reset`).send({ email: uniqueEmail('r') });
      codes.push(res.status);
    }
    assert.deepEqual(codes, [202, 202, 202, 429]);
  });

  it('does not limit other routes', async () => {
    for (let i = 0; i < 6; i++)
      assert.equal((await t.http.get(`${API}/auth/password-policy`)).status, 200);
  });
});

describe('per-IP sign-in limit behind a trusted proxy (TRUST_PROXY=loopback)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ RATE_LIMIT_SIGNIN: '3', TRUST_PROXY: 'loopback' });
  });
  after(async () => t.close());

  it('counts per X-Forwarded-For address and records it on the session', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await login(t, uniqueEmail('x'), WRONG, '198.51.100.1')).status, 401);
    assert.equal((await login(t, uniqueEmail('x'), WRONG, '198.51.100.1')).status, 429);
    const u = await makeUser(t, { signIn: false });
    const res = await login(t, u.email, u.password, '198.51.100.2');
    assert.equal(res.status, 200);
    const [session] = await sessionsOf(t, u.user.id);
    assert.equal(session?.ip, '198.51.100.2');
  });
});

describe('per-IP sign-in limit turned off (RATE_LIMIT_SIGNIN=0)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ RATE_LIMIT_SIGNIN: '0', LOCKOUT_THRESHOLD: '3' });
  });
  after(async () => t.close());

  it('never answers 429, but the per-account lock-out still holds', async () => {
    const u = await makeUser(t, { signIn: false });
    for (let i = 0; i < 8; i++) assert.equal((await login(t, u.email, WRONG)).status, 401);
    assert.equal((await login(t, u.email, u.password)).status, 401);
    assert.ok((await userRow(t, u.user.id)).lockedUntil instanceof Date);
    for (let i = 0; i < 5; i++) assert.equal((await login(t, uniqueEmail('x'), WRONG)).status, 401);
  });
});
