import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { SigningKey } from '#src/credentials/entities/signing-key.entity.js';
import { SigningKeysService } from '#src/credentials/tokens/signing-keys.service.js';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { auditOf, makeGrant, refresh, tableDump } from '../factories/credentials.js';
import { makeUser } from '../factories/users.js';

/**
 * Gatehouse as a real server on loopback, used by standard libraries with no Gatehouse-specific
 * code: openid-client discovers the RFC 8414 metadata and runs the refresh grant, jose verifies the
 * access tokens against the served JWKS.
 */
describe('standard OAuth and JOSE libraries against the running server', () => {
  let t: TestApp;
  let origin: string;
  before(async () => {
    ({ t, origin } = await createListeningTestApp({ ACCESS_TOKEN_MINUTES: '5' }));
  });
  after(async () => t.close());

  it('serves authorization-server metadata and a JWKS outside /api/v1', async () => {
    const meta = await fetch(`${origin}/.well-known/oauth-authorization-server`);
    assert.equal(meta.status, 200);
    const body = (await meta.json()) as Record<string, unknown>;
    assert.equal(body['issuer'], origin);
    assert.equal(body['token_endpoint'], `${origin}/api/v1/oauth/token`);
    assert.equal(body['jwks_uri'], `${origin}/.well-known/jwks.json`);
    // The OpenID Provider's metadata (see oidc-provider.test.ts); grants' refresh tokens still work.
    assert.ok((body['grant_types_supported'] as string[]).includes('refresh_token'));
    assert.ok((body['token_endpoint_auth_methods_supported'] as string[]).includes('none'));
    const jwks = (await (await fetch(`${origin}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!['alg'], 'ES256');
    assert.equal(jwks.keys[0]!['kty'], 'EC');
    assert.equal(jwks.keys[0]!['d'], undefined, 'no private part is published');
    // The private half is sealed at rest.
    const dump = await tableDump(t, 'signing_keys');
    assert.ok(!dump.includes('"d"'), 'no private JWK in clear in the database');
  });

  it('runs the refresh grant with openid-client and verifies the token with a remote JWKS', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner, { type: 'service', forClientId: 'svc-reports' });
    const config = await client.discovery(
      new URL(origin),
      'svc-reports',
      undefined,
      client.None(),
      { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
    );
    const first = await client.refreshTokenGrant(config, g.refreshToken);
    assert.equal(first.token_type, 'bearer');
    assert.equal(first.expires_in, 300);
    assert.ok(first.refresh_token && first.refresh_token !== g.refreshToken);

    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(first.access_token, jwks, {
      issuer: config.serverMetadata().issuer,
      audience: 'svc-reports',
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(payload.sub, owner.user.id);
    assert.equal(payload['gid'], g.id);
    assert.ok(protectedHeader.kid);

    // Rotation through the library, and its reuse refused in standard form.
    const second = await client.refreshTokenGrant(config, first.refresh_token);
    assert.ok(second.access_token);
    await assert.rejects(
      client.refreshTokenGrant(config, first.refresh_token),
      (err: unknown) => err instanceof client.ResponseBodyError && err.error === 'invalid_grant',
    );
    await assert.rejects(
      client.refreshTokenGrant(config, second.refresh_token!),
      (err: unknown) => err instanceof client.ResponseBodyError && err.error === 'invalid_grant',
    );
  });

  it('rotates the signing key: old tokens verify until their key leaves the set', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner);
    const a = await refresh(t, g.refreshToken);
    const kidA = decodeProtectedHeader(a.body.access_token).kid!;
    const keys = t.get(SigningKeysService);
    const kidB = await keys.rotate();
    assert.notEqual(kidB, kidA);
    const b = await refresh(t, a.body.refresh_token);
    assert.equal(decodeProtectedHeader(b.body.access_token).kid, kidB);

    const rows = await t.db.getRepository(SigningKey).find();
    assert.ok(rows.find((r) => r.id === kidA)!.retiredAt instanceof Date);
    assert.equal(rows.find((r) => r.id === kidB)!.retiredAt, null);
    assert.ok((await auditOf(t, 'grant.create', owner.user.id)).length === 1);

    // Both published, both verify offline (a fresh remote set) and as bearer credentials.
    const jwks = createRemoteJWKSet(new URL(`${origin}/.well-known/jwks.json`));
    for (const token of [a.body.access_token, b.body.access_token] as string[]) {
      await jwtVerify(token, jwks, { issuer: origin, typ: 'at+jwt' });
      await t.http.get('/api/v1/auth/whoami').set('Authorization', `Bearer ${token}`).expect(200);
    }
    const published = (await (await fetch(`${origin}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    assert.deepEqual(published.keys.map((k) => k.kid).sort(), [kidA, kidB].sort());

    // Once retired for longer than any token it signed can live, the old key is withdrawn.
    await t.db
      .getRepository(SigningKey)
      .update({ id: kidA }, { retiredAt: new Date(Date.now() - 3_600_000) });
    const kidC = await keys.rotate();
    const after = (await (await fetch(`${origin}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    assert.deepEqual(after.keys.map((k) => k.kid).sort(), [kidB, kidC].sort());
    await assert.rejects(
      jwtVerify(
        a.body.access_token,
        createRemoteJWKSet(new URL(`${origin}/.well-known/jwks.json`)),
        {
          issuer: origin,
        },
      ),
    );
    const who = await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${a.body.access_token}`);
    assert.equal(who.status, 401);
    await t.http
      .get('/api/v1/auth/whoami')
      .set('Authorization', `Bearer ${b.body.access_token}`)
      .expect(200);
  });

  it('refuses forged access tokens: a changed subject, alg none', async () => {
    const owner = await makeUser(t);
    const g = await makeGrant(t, owner);
    const r = await refresh(t, g.refreshToken);
    const [h, p, s] = (r.body.access_token as string).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const admin = await makeUser(t, { role: 'admin' });
    const tampered = `${h}.${enc({ ...claims, sub: admin.user.id })}.${s}`;
    const none = `${enc({ alg: 'none', typ: 'at+jwt' })}.${p}.`;
    for (const token of [tampered, none, `${none}x`]) {
      const res = await t.http.get('/api/v1/auth/whoami').set('Authorization', `Bearer ${token}`);
      assert.equal(res.status, 401);
    }
  });
});
