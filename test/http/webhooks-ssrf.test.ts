import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendEvent } from '#src/webhooks/sender.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from '../factories/users.js';
import { Receiver } from '../factories/webhooks.js';

/** WEBHOOK_ALLOW_PRIVATE=false (the default): private, loopback and link-local targets refused. */
describe('webhook targets with WEBHOOK_ALLOW_PRIVATE=false', () => {
  let t: TestApp;
  let admin: MadeUser;
  let rx: Receiver;

  before(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: 'admin' });
    rx = await new Receiver().start();
  });
  after(async () => {
    await t.close();
    await rx.stop();
  });

  const refused = [
    'https://127.0.0.1/hook',
    'https://127.1.2.3:8443/hook',
    'https://10.1.2.3/hook',
    'https://172.16.0.1/hook',
    'https://192.168.1.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/hook',
    'https://0.0.0.0/hook',
    'https://224.0.0.1/hook',
    'https://[::1]/hook',
    'https://[fc00::1]/hook',
    'https://[fd12:3456::1]/hook',
    'https://[fe80::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:10.0.0.1]/hook',
    'https://localhost/hook',
    'http://93.184.215.14/hook',
  ];

  it('refuses private, loopback, link-local, unique-local and plain-http targets (400 naming url)', async () => {
    for (const url of refused) {
      const res = await t.http
        .post('/api/v1/webhooks')
        .set(admin.auth)
        .send({ url, events: ['*'] });
      assert.equal(res.status, 400, `${url}: ${res.status} ${JSON.stringify(res.body)}`);
      const fields = (res.body as { errors?: { field: string }[] }).errors?.map((e) => e.field);
      assert.deepEqual(fields, ['url'], url);
    }
    const rows = await t.db.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM webhook_endpoints',
    );
    assert.equal(Number(rows[0]!.n), 0);
  });

  it('refuses the same addresses on PATCH', async () => {
    const res = await t.http
      .patch('/api/v1/webhooks/0190a000-0000-7000-8000-000000000000')
      .set(admin.auth)
      .send({ url: 'https://10.0.0.1/' });
    // The URL is checked after the endpoint is found: an unknown one is a 404.
    assert.equal(res.status, 404);
  });

  it('refuses at delivery time a name that resolves to a loopback address (checked at connect)', async () => {
    const viaName = await sendEvent(`https://localhost:${rx.port}/x`, {}, '{}', {
      allowPrivate: false,
    });
    assert.equal(viaName.statusCode, null);
    assert.match(viaName.error ?? '', /^refused: .*private or reserved/);
    const literal = await sendEvent(`https://127.0.0.1:${rx.port}/x`, {}, '{}', {
      allowPrivate: false,
    });
    assert.match(literal.error ?? '', /^refused: 127\.0\.0\.1/);
    const plain = await sendEvent('http://93.184.215.14/x', {}, '{}', { allowPrivate: false });
    assert.match(plain.error ?? '', /^refused: not an https URL/);
    assert.equal(rx.received.length, 0, 'nothing reached the receiver');
    // The same call with private targets allowed does reach it (the refusals above were the guard).
    const allowed = await sendEvent(rx.url('/x'), {}, '{}', { allowPrivate: true });
    assert.equal(allowed.statusCode, 200);
    assert.equal(rx.received.length, 1);
  });
});
