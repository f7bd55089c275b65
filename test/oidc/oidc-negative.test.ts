import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { User } from '#src/users/user.entity.js';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../support/app.js';
import { FakeIdp } from '../support/fake-idp.js';
import { callback, counts, setCookies, startLogin, type StartedLogin } from '../factories/oidc.js';

const CLIENT_ID = 'gatehouse-fake';
const TIMEOUT_MS = 800;

/**
 * Every way the provider's answer can be wrong, against a jose-signed fake provider. Each case:
 * no session, no user, no link, and an error page that says what went wrong in plain words.
 */
describe('browser sign-in refuses bad provider answers', () => {
  const idp = new FakeIdp();
  const liar = new FakeIdp();
  let t: TestApp;
  let seq = 0;

  before(async () => {
    await idp.start();
    await liar.start();
    liar.discoveryIssuer = 'http://127.0.0.1:1/not-the-issuer';
    t = await createTestApp({
      OIDC_TIMEOUT_MS: String(TIMEOUT_MS),
      OIDC_PROVIDERS: JSON.stringify([
        {
          id: 'fake',
          name: 'Fake',
          issuer: idp.issuer,
          clientId: CLIENT_ID,
          clientSecret: 'fake-secret',
          trustEmailForLinking: true,
        },
        {
          id: 'liar',
          name: 'Liar',
          issuer: liar.issuer,
          clientId: CLIENT_ID,
          clientSecret: 'fake-secret',
        },
      ]),
    });
  });
  after(async () => {
    await t.close();
    await idp.stop();
    await liar.stop();
  });
  beforeEach(() => {
    idp.tokenEndpointMode = 'ok';
    idp.nextIdToken = null;
    idp.tokenResponseOverride = null;
  });

  const claims = (nonce: string, extra: Record<string, unknown> = {}) => {
    const sub = `sub-${++seq}-${Date.now()}`;
    return { sub, email: `${sub}@example.test`, email_verified: true, nonce, ...extra };
  };

  /** Starts a login, makes the token endpoint answer `token(nonce)`, and calls back. */
  async function attempt(
    token: (s: StartedLogin) => Promise<string | null> | string | null,
    opts: { binding?: string | null; state?: string; code?: string } = {},
  ) {
    const started = await startLogin(t, 'fake');
    idp.nextIdToken = await token(started);
    const code = opts.code ?? `code-${++seq}`;
    const state = opts.state ?? started.state;
    const res = await callback(
      t,
      `/api/v1/auth/oidc/fake/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
      opts.binding === undefined ? started.binding : opts.binding,
    );
    return { res, started };
  }

  async function refused(
    run: () => Promise<{ res: import('supertest').Response }>,
    status: number,
    title: RegExp,
  ) {
    const before = await counts(t);
    const { res } = await run();
    assert.equal(res.status, status, res.text);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.text, title);
    assert.equal(setCookies(res).get('gh_session'), undefined, 'no session cookie');
    assert.deepEqual(await counts(t), before, 'no user, link or session was written');
    return res;
  }

  it('signs in with a good token (the control case), sending the PKCE verifier', async () => {
    const before = await counts(t);
    const { res, started } = await attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce)));
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers['location'], `${TEST_PUBLIC_URL}/`);
    const after = await counts(t);
    assert.equal(after.users, before.users + 1);
    assert.equal(after.identities, before.identities + 1);
    const sent = idp.tokenRequests[idp.tokenRequests.length - 1] ?? {};
    assert.equal(sent['grant_type'], 'authorization_code');
    assert.equal(sent['redirect_uri'], `${TEST_PUBLIC_URL}/api/v1/auth/oidc/fake/callback`);
    const verifier = sent['code_verifier'] ?? '';
    assert.match(verifier, /^[\w-]{43,128}$/);
    assert.equal(createHash('sha256').update(verifier).digest('base64url'), started.codeChallenge);
    assert.equal(sent['client_secret'], undefined, 'the secret goes in the Basic header');
  });

  it('refuses a token whose signature does not match', async () => {
    await refused(
      () =>
        attempt(async (s) => {
          const good = await idp.sign(CLIENT_ID, claims(s.nonce));
          const [h, p, sig] = good.split('.');
          const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString());
          payload.sub = 'admin';
          return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
        }),
      400,
      /The sign-in could not be verified/,
    );
  });

  it('refuses an unsigned token (alg none)', async () => {
    await refused(
      () => attempt((s) => idp.unsigned(CLIENT_ID, claims(s.nonce))),
      400,
      /The sign-in could not be verified/,
    );
  });

  it('refuses a token from another issuer', async () => {
    await refused(
      () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce), { issuer: 'http://evil.example' })),
      400,
      /The sign-in could not be verified/,
    );
  });

  it('refuses a token for another audience, or for us and another one', async () => {
    await refused(
      () => attempt((s) => idp.sign('someone-else', claims(s.nonce))),
      400,
      /meant for another application/,
    );
    await refused(
      () =>
        attempt((s) =>
          idp.sign(CLIENT_ID, claims(s.nonce, { aud: [CLIENT_ID, 'other-app'], azp: CLIENT_ID })),
        ),
      400,
      /meant for another application/,
    );
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(
      () =>
        attempt((s) =>
          idp.sign(CLIENT_ID, claims(s.nonce), { issuedAt: now - 7200, expiresIn: now - 3600 }),
        ),
      400,
      /The sign-in has expired/,
    );
  });

  it('refuses a token with another nonce, or none', async () => {
    await refused(
      () => attempt(() => idp.sign(CLIENT_ID, claims('some-other-nonce'))),
      400,
      /does not match this attempt/,
    );
    await refused(
      () => attempt(() => idp.sign(CLIENT_ID, { ...claims(''), nonce: undefined })),
      400,
      /does not match this attempt/,
    );
  });

  it('refuses a replayed callback', async () => {
    const started = await startLogin(t, 'fake');
    idp.nextIdToken = await idp.sign(CLIENT_ID, claims(started.nonce));
    const url = `/api/v1/auth/oidc/fake/callback?code=replay-${++seq}&state=${started.state}`;
    assert.equal((await callback(t, url, started.binding)).status, 303);
    const requests = idp.tokenRequests.length;
    await refused(
      async () => ({ res: await callback(t, url, started.binding) }),
      400,
      /unknown or expired/,
    );
    assert.equal(idp.tokenRequests.length, requests, 'no token request for a spent state');
  });

  it('refuses an unknown state, and a state started in another browser', async () => {
    await refused(
      () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce)), { state: 'forged-state' }),
      400,
      /unknown or expired/,
    );
    await refused(
      () =>
        attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce)), {
          binding: 'gthb_not-the-browser-that-started-it',
        }),
      400,
      /unknown or expired/,
    );
    await refused(
      () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce)), { binding: null }),
      400,
      /unknown or expired/,
    );
  });

  it('refuses a callback without a code, or naming another issuer', async () => {
    const started = await startLogin(t, 'fake');
    await refused(
      async () => ({
        res: await callback(
          t,
          `/api/v1/auth/oidc/fake/callback?state=${started.state}`,
          started.binding,
        ),
      }),
      400,
      /Incomplete sign-in response/,
    );
    await refused(
      async () => ({
        res: await callback(
          t,
          `/api/v1/auth/oidc/fake/callback?code=x&state=${started.state}&iss=${encodeURIComponent('http://evil.example')}`,
          started.binding,
        ),
      }),
      400,
      /could not be verified/,
    );
  });

  it('answers a token endpoint that is down with an error page', async () => {
    idp.tokenEndpointMode = 'down';
    await refused(
      () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce))),
      502,
      /The identity provider did not answer/,
    );
  });

  it('answers a token endpoint that refuses the code with an error page, never its text', async () => {
    idp.tokenEndpointMode = 'refuse';
    const res = await refused(
      () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce))),
      400,
      /refused to finish the sign-in/,
    );
    assert.ok(!res.text.includes('<b>code used</b>'));
  });

  it('answers a hanging token endpoint within the timeout, and keeps serving meanwhile', async () => {
    idp.tokenEndpointMode = 'hang';
    const started = Date.now();
    let healthMs = -1;
    const [outcome] = await Promise.all([
      refused(
        () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce))),
        502,
        /The identity provider did not answer/,
      ),
      (async () => {
        await new Promise((r) => setTimeout(r, 200));
        const t0 = Date.now();
        const health = await t.http.get('/health/live');
        assert.equal(health.status, 200);
        healthMs = Date.now() - t0;
      })(),
    ]);
    const elapsed = Date.now() - started;
    assert.ok(outcome);
    assert.ok(elapsed >= TIMEOUT_MS, `answered after ${elapsed} ms`);
    assert.ok(elapsed < TIMEOUT_MS + 2000, `answered after ${elapsed} ms`);
    assert.ok(healthMs >= 0 && healthMs < TIMEOUT_MS, `health answered in ${healthMs} ms`);
  });

  it('answers a non-JSON token response with an error page', async () => {
    idp.tokenEndpointMode = 'garbage';
    await refused(
      () => attempt((s) => idp.sign(CLIENT_ID, claims(s.nonce))),
      502,
      /could not understand|unreadable answer/,
    );
  });

  it('answers a token response without a usable ID token with an error page, without crashing', async () => {
    await refused(() => attempt(() => null), 502, /unreadable answer/);
    await refused(() => attempt(() => 'not-a-jwt'), 502, /unreadable answer/);
    // A well-formed JWT whose payload is JSON null: the library would throw in a callback.
    const nullPayload = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('null').toString('base64url')}.c2ln`;
    await refused(() => attempt(() => nullPayload), 502, /unreadable answer/);
    idp.tokenResponseOverride = { id_token: { nested: true } };
    await refused(() => attempt(() => 'ignored'), 502, /unreadable answer/);
    const health = await t.http.get('/health/live');
    assert.equal(health.status, 200, 'the process is still serving');
  });

  it('refuses a provider whose discovery names another issuer, at the login step', async () => {
    const before = await counts(t);
    const res = await t.http.get('/api/v1/auth/oidc/liar/login');
    assert.equal(res.status, 502);
    assert.match(res.text, /The identity provider is misconfigured/);
    assert.equal(res.headers['location'], undefined);
    assert.deepEqual(await counts(t), before);
  });

  it('left no user behind from any refused attempt', async () => {
    const rows = await t.db.getRepository(User).find();
    assert.equal(
      rows.length,
      2,
      'only the control case and the first (not replayed) callback made users',
    );
  });
});
