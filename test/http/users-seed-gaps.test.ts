import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { linkParam, SmtpCapture } from '../support/smtp.js';
import { login } from '../factories/auth.js';
import { makeUser, PASSWORD, uniqueEmail, type MadeUser } from '../factories/users.js';

const API = '/api/v1';

describe('admin-created users: pending or active per call, user names that are not emails', () => {
  const smtp = new SmtpCapture();
  let t: TestApp;
  let admin: MadeUser;

  before(async () => {
    t = await createTestApp({ SMTP_URL: await smtp.start(), REGISTRATION: 'closed' });
    admin = await makeUser(t, { role: 'admin' });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const create = (body: object) => t.http.post(`${API}/users`).set(admin.auth).send(body);

  it('creates a pending user who gets an activation mail, and an active one who does not', async () => {
    const email = uniqueEmail('pending');
    const res = await create({ email, password: PASSWORD, status: 'pending' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, 'pending');
    const row = await t.db.getRepository(User).findOneByOrFail({ emailNormalized: email });
    assert.equal(row.status, 'pending');
    assert.equal((await login(t, email, PASSWORD)).status, 401, 'pending cannot sign in yet');
    const mail = await smtp.waitFor(email, /Activate your Gatehouse account/);
    const token = linkParam(mail, '/activate', 'token');
    const activated = await t.http.post(`${API}/auth/activate`).send({ token });
    assert.equal(activated.status, 200, activated.text);
    assert.equal((await t.db.getRepository(User).findOneByOrFail({ id: row.id })).status, 'active');
    assert.equal((await login(t, email, PASSWORD)).status, 200);

    const activeEmail = uniqueEmail('active');
    const active = await create({ email: activeEmail, password: PASSWORD, status: 'active' });
    assert.equal(active.status, 201);
    assert.equal(active.body.status, 'active');
    assert.equal((await login(t, activeEmail, PASSWORD)).status, 200);
    assert.ok(!smtp.mails.some((m) => m.to.includes(activeEmail)), 'no mail for an active user');

    assertProblem(await create({ email: uniqueEmail(), status: 'disabled' }), 400, 'status');
  });

  it('accepts a username that is not an email: unique case-insensitively, usable to sign in, searchable', async () => {
    const name = `Robot.${randomBytes(3).toString('hex')}`;
    const email = uniqueEmail('robot');
    const res = await create({ email, username: name, password: PASSWORD });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.username, name);
    const row = await t.db.getRepository(User).findOneByOrFail({ emailNormalized: email });
    assert.equal(row.username, name);
    assert.equal(row.usernameNormalized, name.toLowerCase());

    const signIn = await login(t, name.toUpperCase(), PASSWORD);
    assert.equal(signIn.status, 200, 'the username signs in, whatever its case');
    assert.equal(signIn.body.user.id, row.id);

    const found = await t.http
      .get(`${API}/users?query=${encodeURIComponent(name.slice(0, 8).toLowerCase())}`)
      .set(admin.auth);
    assert.equal(found.status, 200);
    assert.ok((found.body as { items: { id: string }[] }).items.some((u) => u.id === row.id));

    const clash = await create({ email: uniqueEmail(), username: name.toLowerCase() });
    assertProblem(clash, 409, 'username');
    assert.equal(
      await t.db.getRepository(User).countBy({ usernameNormalized: name.toLowerCase() }),
      1,
    );
    for (const bad of ['someone@example.test', '.dot-first', 'has space', 'x'.repeat(65), '']) {
      assertProblem(await create({ email: uniqueEmail(), username: bad }), 400, 'username');
    }
  });
});
