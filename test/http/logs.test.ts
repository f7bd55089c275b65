import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { uniqueEmail } from '../factories/users.js';
import { API, login } from '../factories/auth.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  async waitFor(re: RegExp, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.text)) {
      if (Date.now() > end) throw new Error(`log never matched ${re}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const PASSWORD = 'a rather secret passphrase 1';
const WRONG = 'a wrong but secret passphrase 2';

/** Signup, registration with a mailed link, good and bad sign-ins, a reset request: all logged at debug. */
/**
 * Signs up (or, with `bootstrapped`, uses the admin created at start-up from the settings), then
 * registers, signs in, fails a sign-in and asks for a reset. Answers the tokens handed out.
 */
async function exercise(t: TestApp, log: Capture, bootstrapped?: string): Promise<string[]> {
  const admin = bootstrapped ?? uniqueEmail('admin');
  const tokens: string[] = [];
  if (!bootstrapped) {
    const signup = await t.http
      .post(`${API}/auth/signup`)
      .send({ email: admin, password: PASSWORD });
    assert.equal(signup.status, 201);
    tokens.push(signup.body.token as string);
  }
  const newcomer = uniqueEmail('new');
  await t.http
    .post(`${API}/auth/register`)
    .send({ email: newcomer, password: PASSWORD })
    .expect(201);
  const ok = await login(t, admin, PASSWORD).expect(200);
  await login(t, admin, WRONG).expect(401);
  await t.http.post(`${API}/auth/password-reset`).send({ email: admin }).expect(202);
  await log.waitFor(/Reset your Gatehouse password/);
  await log.waitFor(/Activate your Gatehouse account/);
  return [...tokens, ok.body.token as string];
}

describe('structured logs without SMTP in production', () => {
  let t: TestApp;
  const log = new Capture();
  // Production has no anonymous first admin: it comes from the BOOTSTRAP_ADMIN_* settings.
  const bootstrapAdmin = uniqueEmail('bootstrap');
  before(async () => {
    t = await createTestApp(
      {
        NODE_ENV: 'production',
        LOG_LEVEL: 'debug',
        BCRYPT_COST: '10',
        REGISTRATION: 'activation',
        BOOTSTRAP_ADMIN_EMAIL: bootstrapAdmin,
        BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      },
      { logDestination: log },
    );
  });
  after(async () => t.close());

  it('writes JSON lines with no password, session token, activation token or reset id', async () => {
    const tokens = await exercise(t, log, bootstrapAdmin);
    const lines = log.lines();
    assert.ok(lines.length > 5);
    assert.ok(lines.every((l) => typeof l.level === 'number' && l.service === 'gatehouse'));
    for (const secret of [PASSWORD, WRONG, ...tokens])
      assert.equal(log.text.includes(secret), false, 'a secret reached the log');
    assert.doesNotMatch(log.text, /gtht_|gths_|reset-password\?|activate\?token/);
    const withheld = lines.filter((l) => /mail not sent/.test(String(l.msg)));
    assert.equal(withheld.length, 2);
    assert.ok(withheld.every((l) => l.text === undefined));
  });
});

describe('structured logs without SMTP in development', () => {
  let t: TestApp;
  const log = new Capture();
  before(async () => {
    t = await createTestApp(
      { LOG_LEVEL: 'debug', REGISTRATION: 'activation' },
      { logDestination: log },
    );
  });
  after(async () => t.close());

  it('logs mails with their links (by design, to follow them on one machine) but never a password or session token', async () => {
    const tokens = await exercise(t, log);
    for (const secret of [PASSWORD, WRONG, ...tokens])
      assert.equal(log.text.includes(secret), false, 'a secret reached the log');
    assert.doesNotMatch(log.text, /gths_/);
    assert.match(log.text, /reset-password\?requestId=gtht_/);
  });
});
