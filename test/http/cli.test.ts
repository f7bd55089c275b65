import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD,
  baseEnv,
  query,
  Server,
  sharedDatabase,
  type Db,
} from '../support/server-process.js';
const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the gatehouse command line (built, as a child process)', () => {
  let dir: string;
  let db: Db;
  let env: Record<string, string>;
  let server: Server | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    db = await sharedDatabase(dir);
    env = baseEnv(dir, db.url);
  });
  after(async () => {
    await server?.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates, creates the first admin from a password file, and refuses wrong usage', async () => {
    const migrated = await cli(['migrate'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /Ran \d+ migration/);
    const again = await cli(['migrate'], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /up to date/);

    const file = join(dir, 'pw');
    writeFileSync(file, `${ADMIN_PASSWORD}\n`);
    const created = await cli(
      ['users', 'create', '--email', 'ops@example.test', '--admin', '--password-file', file],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const made = JSON.parse(created.stdout) as { id: string; role: string };
    assert.equal(made.role, 'admin');
    const rows = await query<{ role: string; email_verified: unknown }>(
      db.url,
      `SELECT role, email_verified FROM users WHERE id = '${made.id}'`,
    );
    assert.equal(rows[0]?.role, 'admin');
    assert.equal(Number(rows[0]?.email_verified), 1);

    const dup = await cli(
      ['users', 'create', '--email', 'OPS@example.test', '--password-file', file],
      env,
    );
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const weak = await cli(['users', 'create', '--email', 'weak@example.test'], {
      ...env,
      GATEHOUSE_PASSWORD: 'short',
    });
    assert.equal(weak.code, 1);
    const argv = await cli(
      ['users', 'create', '--email', 'x@example.test', '--password', 'x'],
      env,
    );
    assert.equal(argv.code, 2, 'no password on the command line');
    const none = await cli(['users', 'create', '--email', 'x@example.test'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--password-file/);
    const clients = await cli(['clients', 'create'], env);
    assert.equal(clients.code, 2);
    assert.match(clients.stderr, /not available yet/);
    const unknown = await cli(['frobnicate'], env);
    assert.equal(unknown.code, 2);
    const noServer = await cli(['users', 'list'], env);
    assert.equal(noServer.code, 2);
    assert.match(noServer.stderr, /GATEHOUSE_URL and GATEHOUSE_TOKEN/);
  });

  it('lists users and creates a key through a running server; verifies the audit chain', async () => {
    server = await Server.start(env);
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'ops@example.test', password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const { token } = (await login.json()) as { token: string };
    const remote = { ...env, GATEHOUSE_URL: server.url, GATEHOUSE_TOKEN: token };
    const list = await cli(['users', 'list'], remote);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /ops@example\.test\tadmin\tactive/);
    const key = await cli(['keys', 'create', '--name', 'deploy'], remote);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /gth_/);
    const keys = await query(db.url, `SELECT id FROM api_keys WHERE name = 'deploy'`);
    assert.equal(keys.length, 1);
    const bad = await cli(['users', 'list'], { ...remote, GATEHOUSE_TOKEN: 'gth_nope' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /401/);

    const verified = await cli(['audit', 'verify'], env);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal((JSON.parse(verified.stdout) as { ok: boolean }).ok, true);
    await server.stop();
    await query(db.url, `UPDATE audit_entries SET action = 'user.tampered' WHERE seq = 1`);
    const broken = await cli(['audit', 'verify'], env);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken/);
  });
});
