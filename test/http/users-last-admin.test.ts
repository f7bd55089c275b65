import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { makeUser, type MadeUser } from '../factories/users.js';

const API = '/api/v1';

// Its own application: these tests count every admin in the database.
describe('the last active admin', () => {
  let t: TestApp;
  let first: MadeUser;

  const activeAdmins = () => t.db.getRepository(User).findBy({ role: 'admin', status: 'active' });

  before(async () => {
    t = await createTestApp();
    first = await makeUser(t, { role: 'admin' });
  });
  after(async () => t.close());

  it('cannot be demoted, disabled or deleted (422)', async () => {
    const self = `${API}/users/${first.user.id}`;
    assertProblem(await t.http.patch(self).set(first.auth).send({ role: 'user' }), 422, 'role');
    assertProblem(
      await t.http.patch(self).set(first.auth).send({ status: 'disabled' }),
      422,
      'status',
    );
    assertProblem(await t.http.delete(self).set(first.auth), 422);
    const row = await t.db.getRepository(User).findOneByOrFail({ id: first.user.id });
    assert.equal(row.role, 'admin');
    assert.equal(row.status, 'active');
    assert.equal(row.version, first.user.version);
    // A disabled admin does not count: still the last active one.
    await makeUser(t, { role: 'admin', status: 'disabled' });
    assertProblem(await t.http.patch(self).set(first.auth).send({ role: 'user' }), 422, 'role');
  });

  it('can be demoted once another admin exists', async () => {
    const second = await makeUser(t, { role: 'admin' });
    const res = await t.http
      .patch(`${API}/users/${second.user.id}`)
      .set(first.auth)
      .send({ role: 'user' });
    assert.equal(res.status, 200);
    assert.deepEqual(
      (await activeAdmins()).map((u) => u.id),
      [first.user.id],
    );
  });

  it('survives two admins demoting each other at the same time', async () => {
    for (let round = 0; round < 3; round++) {
      const admins = await activeAdmins();
      assert.equal(admins.length, 1);
      const survivor = admins[0]!;
      const a = survivor.id === first.user.id ? first : null;
      assert.ok(a, 'the first admin is the only one left');
      const b = await makeUser(t, { role: 'admin' });
      const [ra, rb] = await Promise.all([
        t.http.patch(`${API}/users/${b.user.id}`).set(a.auth).send({ role: 'user' }),
        t.http.patch(`${API}/users/${a.user.id}`).set(b.auth).send({ role: 'user' }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      // One demotion wins; the other is refused as the last admin (or, if the winner demoted its
      // caller first, the caller is no longer an admin at all).
      assert.ok(
        statuses[0] === 200 && (statuses[1] === 422 || statuses[1] === 403),
        `statuses ${statuses.join(', ')}`,
      );
      const left = await activeAdmins();
      assert.equal(left.length, 1, `round ${round}: ${left.length} admins left`);
      if (left[0]!.id !== first.user.id) {
        // b won: make the first admin an admin again for the next round, through the API.
        await t.http
          .patch(`${API}/users/${first.user.id}`)
          .set(b.auth)
          .send({ role: 'admin' })
          .expect(200);
        await t.http
          .patch(`${API}/users/${b.user.id}`)
          .set(first.auth)
          .send({ role: 'user' })
          .expect(200);
      }
    }
  });
});
