import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, PASSWORD, uniqueEmail } from '../factories/users.js';
import { API, login, userByEmail } from '../factories/auth.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

describe('operations: errors, health, metrics, OpenAPI', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('lists every bad field of a body in errors[]', async () => {
    const res = await t.http
      .post(`${API}/auth/register`)
      .send({ email: 'nope', password: 12, fullName: 'x'.repeat(201) });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], PROBLEM);
    assert.equal(res.body.status, 400);
    assert.equal(typeof res.body.type, 'string');
    assert.equal(typeof res.body.title, 'string');
    const fields = new Set((res.body.errors as { field: string }[]).map((e) => e.field));
    assert.deepEqual([...fields].sort(), ['email', 'fullName', 'password']);
  });

  it('refuses unknown fields with 400 naming them, and writes nothing', async () => {
    const email = uniqueEmail('mass');
    const res = await t.http
      .post(`${API}/auth/register`)
      .send({ email, password: PASSWORD, role: 'admin', status: 'active' });
    assert.equal(res.status, 400);
    const fields = (res.body.errors as { field: string; message: string }[]).map((e) => e.field);
    assert.deepEqual(fields.sort(), ['role', 'status']);
    assert.equal(await userByEmail(t, email), null);
  });

  it('answers a body over 100 KiB with 413 problem+json', async () => {
    const res = await t.http
      .post(`${API}/auth/login`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ username: 'x', password: 'y'.repeat(101 * 1024) }));
    assert.equal(res.status, 413);
    assert.equal(res.headers['content-type'], PROBLEM);
    assert.equal(res.body.status, 413);
  });

  it('answers malformed JSON with 400 problem+json', async () => {
    const res = await t.http
      .post(`${API}/auth/login`)
      .set('Content-Type', 'application/json')
      .send('{"username": "x", ');
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], PROBLEM);
    assert.equal(res.body.status, 400);
  });

  it('answers an unknown route with 404 problem+json', async () => {
    const res = await t.http.get(`${API}/no-such-route`);
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], PROBLEM);
  });

  it('answers /health/live and /health/ready with 200 to anyone', async () => {
    const live = await t.http.get('/health/live');
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { status: 'ok' });
    const ready = await t.http.get('/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ok');
    assert.equal(ready.body.info.database.status, 'up');
  });

  it('exposes request counts by route and sign-in outcomes on /metrics', async () => {
    const u = await makeUser(t, { signIn: false });
    await login(t, u.email, u.password).expect(200);
    await login(t, u.email, 'wrong password, long enough').expect(401);
    await login(t, uniqueEmail('ghost'), 'wrong password, long enough').expect(401);
    await t.http.get(`${API}/auth/password-policy`).expect(200);
    await t.http.get(`${API}/users/${u.user.id}`).expect(401);
    await t.http.get(`${API}/no-such-route/${u.user.id}`).expect(404);
    const res = await t.http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    const text = res.text;
    const count = (labels: RegExp): number => {
      const line = text.split('\n').find((l) => labels.test(l));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    assert.ok(
      count(/^gatehouse_http_requests_total\{.*route="\/api\/v1\/auth\/login".*status="200"/) >= 1,
      text,
    );
    assert.ok(
      count(/^gatehouse_http_requests_total\{.*route="\/api\/v1\/auth\/login".*status="401"/) >= 2,
    );
    assert.ok(
      count(/^gatehouse_http_requests_total\{.*route="\/api\/v1\/auth\/password-policy"/) >= 1,
    );
    assert.equal(count(/^gatehouse_login_total\{outcome="success"\}/), 1);
    assert.equal(count(/^gatehouse_login_total\{outcome="bad_password"\}/), 1);
    assert.equal(count(/^gatehouse_login_total\{outcome="unknown_user"\}/), 1);
    assert.match(text, /gatehouse_http_request_duration_seconds_bucket/);
    assert.ok(
      count(
        /^gatehouse_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/auth\/password-policy"\}/,
      ) >= 1,
    );
    // A path with an id counts under its route's pattern; one no route matches, as `unmatched`.
    assert.ok(
      count(
        /^gatehouse_http_requests_total\{method="GET",route="\/api\/v1\/users\/:id",status="401"\}/,
      ) >= 1,
    );
    assert.ok(
      count(/^gatehouse_http_requests_total\{method="GET",route="unmatched",status="404"\}/) >= 1,
    );
    // Route patterns, never raw paths with ids (cardinality).
    assert.doesNotMatch(text, new RegExp(u.user.id));
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await t.http.get('/api/openapi.json');
    assert.equal(doc.status, 200);
    assert.match(String(doc.body.openapi), /^3\./);
    assert.ok(doc.body.paths['/api/v1/auth/login'].post);
    const ui = await t.http.get('/api/docs/');
    assert.equal(ui.status, 200);
    assert.match(ui.text, /swagger-ui/i);
  });
});

describe('operations: unexpected errors', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REGISTRATION: 'activation' });
    // Break the schema under the running app: inserting a mailed token now fails in a way no
    // code path expects.
    await t.db.query('DROP TABLE user_tokens');
  });
  after(async () => t.close());

  it('answers 500 with a correlation id and no internals, and writes nothing', async () => {
    const email = uniqueEmail('boom');
    const res = await t.http
      .post(`${API}/auth/register`)
      .set('X-Request-Id', 'req-12345')
      .send({ email, password: PASSWORD });
    assert.equal(res.status, 500);
    assert.equal(res.headers['content-type'], PROBLEM);
    assert.equal(res.body.correlationId, 'req-12345');
    assert.deepEqual(Object.keys(res.body).sort(), [
      'correlationId',
      'detail',
      'status',
      'title',
      'type',
    ]);
    assert.doesNotMatch(res.text, /user_tokens|SQL|QueryFailed|at \w+ \(/i);
    assert.equal(await userByEmail(t, email), null, 'the user insert was rolled back');
  });
});

describe('operations: database down', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp();
    token = (await makeUser(t)).token;
    await t.db.destroy();
  });
  after(async () => t.close());

  it('answers /health/ready with 503 and /health/live with 200', async () => {
    const ready = await t.http.get('/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.headers['content-type'], PROBLEM);
    assert.equal(ready.body.checks.database.status, 'down');
    assert.equal((await t.http.get('/health/live')).status, 200);
  });

  it('answers ordinary requests with 503 problem+json, not 500', async () => {
    const who = await t.http.get(`${API}/auth/whoami`).set('Authorization', `Bearer ${token}`);
    assert.equal(who.status, 503);
    assert.equal(who.headers['content-type'], PROBLEM);
    const signIn = await login(t, uniqueEmail('x'), PASSWORD);
    assert.equal(signIn.status, 503);
    assert.equal(signIn.body.status, 503);
  });
});
