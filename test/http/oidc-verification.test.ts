import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OidcError, OidcProvidersService } from '#src/auth/oidc/oidc-providers.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { FakeIdp } from '../support/fake-idp.js';

describe(OidcProvidersService.name, () => {
  const idp = new FakeIdp();
  let t: TestApp;
  let oidc: OidcProvidersService;
  const clientId = 'gatehouse-client';

  before(async () => {
    await idp.start();
    t = await createTestApp({
      OIDC_PROVIDERS: JSON.stringify([
        {
          id: 'fake',
          name: 'Fake IdP',
          issuer: idp.issuer,
          clientId,
          clientSecret: 'client-secret-value',
        },
      ]),
      OIDC_TIMEOUT_MS: '500',
    });
    oidc = t.get(OidcProvidersService);
  });
  after(async () => {
    await t.close();
    await idp.stop();
  });

  const reason = (r: string) => (err: unknown) => err instanceof OidcError && err.reason === r;

  it('accepts a token signed by the provider for us, with claims from the token only', async () => {
    const token = await idp.sign(clientId, {
      sub: 'alice',
      email: 'alice@example.test',
      email_verified: true,
      nonce: 'n1',
    });
    const id = await oidc.verifyIdToken('fake', token, { nonce: 'n1' });
    assert.equal(id.subject, 'alice');
    assert.equal(id.issuer, idp.issuer);
    assert.equal(id.emailVerified, true);
  });

  it('treats email_verified as true only for the JSON boolean', async () => {
    const token = await idp.sign(clientId, {
      sub: 'bob',
      email: 'bob@example.test',
      email_verified: 'true',
    });
    assert.equal((await oidc.verifyIdToken('fake', token)).emailVerified, false);
  });

  it('refuses alg none, a wrong audience, an extra audience, a wrong issuer, an expired token and a wrong nonce', async () => {
    await assert.rejects(
      oidc.verifyIdToken('fake', idp.unsigned(clientId, { sub: 'x' })),
      reason('token_invalid'),
    );
    await assert.rejects(
      oidc.verifyIdToken('fake', await idp.sign('someone-else', { sub: 'x' })),
      reason('audience_invalid'),
    );
    await assert.rejects(
      oidc.verifyIdToken('fake', await idp.sign(clientId, { sub: 'x', aud: [clientId, 'other'] })),
      reason('audience_invalid'),
    );
    await assert.rejects(
      oidc.verifyIdToken(
        'fake',
        await idp.sign(clientId, { sub: 'x' }, { issuer: 'http://evil.test' }),
      ),
      reason('token_invalid'),
    );
    const expired = await idp.sign(
      clientId,
      { sub: 'x' },
      {
        issuedAt: Math.floor(Date.now() / 1000) - 7200,
        expiresIn: Math.floor(Date.now() / 1000) - 3600,
      },
    );
    await assert.rejects(oidc.verifyIdToken('fake', expired), reason('token_expired'));
    await assert.rejects(
      oidc.verifyIdToken('fake', await idp.sign(clientId, { sub: 'x', nonce: 'a' }), {
        nonce: 'b',
      }),
      reason('nonce_mismatch'),
    );
  });

  it('refuses a token whose signature was tampered with', async () => {
    const token = await idp.sign(clientId, { sub: 'carol' });
    const [h, p] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'admin' })).toString('base64url')}.${token.split('.')[2]}`;
    await assert.rejects(oidc.verifyIdToken('fake', forged), reason('token_invalid'));
  });
});
