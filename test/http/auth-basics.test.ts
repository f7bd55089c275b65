import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Session } from '#src/auth/entities/session.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { PASSWORD, uniqueEmail } from '../factories/users.js';

describe('sign-up, sign-in, whoami and sign-out', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('makes the first user an admin, with a session', async () => {
    const email = uniqueEmail('first');
    const res = await t.http
      .post('/api/v1/auth/signup')
      .send({ email, password: PASSWORD, fullName: 'First Admin' });
    assert.equal(res.status, 201);
    assert.equal(res.body.user.role, 'admin');
    assert.match(res.body.token, /^gths_/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const row = await t.db.getRepository(User).findOneByOrFail({ emailNormalized: email });
    assert.equal(row.role, 'admin');
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${res.body.token}`);
    assert.equal(who.status, 200);
    assert.equal(who.body.email, email);
    assert.ok(who.body.permissions.includes('*'));
  });

  it('signs in, answers whoami by cookie, and signs out', async () => {
    const email = uniqueEmail('second');
    await t.http.post('/api/v1/auth/register').send({ email, password: PASSWORD }).expect(201);
    const login = await t.http
      .post('/api/v1/auth/login')
      .send({ username: email.toUpperCase(), password: PASSWORD });
    assert.equal(login.status, 200);
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /gh_session=gths_/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    const who = await t.http.get('/api/v1/auth/whoami').set('Cookie', cookie.split(';')[0] ?? '');
    assert.equal(who.status, 200);
    assert.equal(who.body.role, 'user');
    const out = await t.http
      .post('/api/v1/auth/logout')
      .set('Authorization', `Bearer ${login.body.token}`);
    assert.equal(out.status, 204);
    const session = await t.db
      .getRepository(Session)
      .findOneByOrFail({ userId: login.body.user.id });
    assert.ok(session.revokedAt instanceof Date);
    const again = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${login.body.token}`);
    assert.equal(again.status, 401);
    assert.equal(again.headers['content-type'], 'application/problem+json; charset=utf-8');
  });
});
