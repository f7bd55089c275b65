import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BootstrapAdminService } from '#src/auth/bootstrap-admin.service.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp } from '../support/app.js';
import {
  ADMIN_PASSWORD,
  baseEnv,
  query,
  Server,
  sharedDatabase,
  type Db,
} from '../support/server-process.js';

describe('production refuses the anonymous first admin; BOOTSTRAP_ADMIN_* creates it', () => {
  let dir: string;
  const dbs: Db[] = [];
  const servers: Server[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-bootstrap-'));
  });
  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of dbs) await d.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 403 naming the settings to an anonymous first signup, and creates no user', async () => {
    const sub = mkdtempSync(join(dir, 'a-'));
    const db = await sharedDatabase(sub);
    dbs.push(db);
    const server = await Server.start(baseEnv(sub, db.url));
    servers.push(server);
    const res = await fetch(`${server.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'first@example.test', password: 'a long enough passphrase' }),
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const body = (await res.json()) as { detail: string };
    assert.match(body.detail, /BOOTSTRAP_ADMIN_EMAIL/);
    assert.match(body.detail, /BOOTSTRAP_ADMIN_PASSWORD/);
    assert.deepEqual(await query(db.url, 'SELECT id FROM users'), []);
  });

  it('creates the first admin from BOOTSTRAP_ADMIN_EMAIL and _PASSWORD_FILE: verified, audited, able to sign in', async () => {
    const sub = mkdtempSync(join(dir, 'b-'));
    const db = await sharedDatabase(sub);
    dbs.push(db);
    const file = join(sub, 'admin-password');
    writeFileSync(file, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    const env = {
      ...baseEnv(sub, db.url),
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
      BOOTSTRAP_ADMIN_PASSWORD_FILE: file,
    };
    const server = await Server.start(env);
    servers.push(server);
    const users = await query<{ id: string; email: string; role: string; email_verified: unknown }>(
      db.url,
      'SELECT id, email, role, email_verified FROM users',
    );
    assert.equal(users.length, 1);
    assert.equal(users[0]!.email, 'root@example.test');
    assert.equal(users[0]!.role, 'admin');
    assert.equal(Number(users[0]!.email_verified), 1);
    const audit = await query<{ action: string }>(
      db.url,
      `SELECT action FROM audit_entries WHERE target_id = '${users[0]!.id}'`,
    );
    assert.deepEqual(
      audit.map((a) => a.action),
      ['user.create'],
    );
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'root@example.test', password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const signedIn = (await login.json()) as { user: { emailVerified: boolean; role: string } };
    assert.equal(signedIn.user.emailVerified, true);
    assert.equal(signedIn.user.role, 'admin');
    await server.stop();

    // A restart with the settings still there changes nothing (a user exists).
    const again = await Server.start({ ...env, BOOTSTRAP_ADMIN_EMAIL: 'other@example.test' });
    servers.push(again);
    assert.equal((await query(db.url, 'SELECT id FROM users')).length, 1);
  });

  it('refuses to start with a password the policy refuses, naming the variable (never the value)', async () => {
    const sub = mkdtempSync(join(dir, 'c-'));
    const db = await sharedDatabase(sub);
    dbs.push(db);
    const out = await Server.run({
      ...baseEnv(sub, db.url),
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
      BOOTSTRAP_ADMIN_PASSWORD: 'short-pw',
    });
    assert.equal(out.code, 1);
    assert.match(out.output, /BOOTSTRAP_ADMIN_PASSWORD must hold a password/);
    assert.ok(!out.output.includes('short-pw'));
    const noPassword = await Server.run({
      ...baseEnv(sub, db.url),
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
    });
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.output, /BOOTSTRAP_ADMIN_PASSWORD or BOOTSTRAP_ADMIN_PASSWORD_FILE/);
  });
});

describe('the first admin is created once when instances race', () => {
  it('serialises "no user yet" and the insert: one creates, the other sees a user', async () => {
    const t = await createTestApp();
    try {
      const svc = t.get(BootstrapAdminService);
      const results = await Promise.all([
        svc.createFirstAdmin('race-a@example.test', ADMIN_PASSWORD),
        svc.createFirstAdmin('race-b@example.test', ADMIN_PASSWORD),
      ]);
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.equal(await t.db.getRepository(User).count(), 1);
    } finally {
      await t.close();
    }
  });

  it('in development the first signup is the admin, with a verified email', async () => {
    const t = await createTestApp({ NODE_ENV: 'development', BCRYPT_COST: '10' });
    try {
      const res = await t.http
        .post('/api/v1/auth/signup')
        .send({ email: 'dev-first@example.test', password: ADMIN_PASSWORD });
      assert.equal(res.status, 201);
      const row = await t.db
        .getRepository(User)
        .findOneByOrFail({ email: 'dev-first@example.test' });
      assert.equal(row.role, 'admin');
      assert.equal(row.emailVerified, true);
    } finally {
      await t.close();
    }
  });
});
