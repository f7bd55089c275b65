import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import OpenIDConnectStrategy from 'passport-openidconnect';
import { HardenedOidcStrategy, pkcePair } from '#src/auth/oidc/hardened-strategy.js';
import type { DiscoveredProvider } from '#src/auth/oidc/oidc-providers.service.js';
import { DEFAULT_RETURN_TO, parseReturnTo } from '#src/auth/oidc/return-to.js';
import { createHash } from 'node:crypto';

describe('returnTo', () => {
  it('accepts paths on this site only', () => {
    assert.equal(DEFAULT_RETURN_TO, '/');
    assert.equal(parseReturnTo(undefined), DEFAULT_RETURN_TO);
    assert.equal(parseReturnTo(''), DEFAULT_RETURN_TO);
    assert.equal(parseReturnTo('/projects/1?tab=a#b'), '/projects/1?tab=a#b');
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      '/path\\x',
      'https://evil.example/',
      'http:/evil.example',
      'javascript:alert(1)',
      'relative/path',
      '/\t/evil.example',
      '/\n/evil.example',
      ' /x',
      `/${'a'.repeat(600)}`,
      ['/a', '/b'],
    ]) {
      assert.equal(parseReturnTo(bad), null, JSON.stringify(bad));
    }
  });
});

describe(HardenedOidcStrategy.name, () => {
  const provider = {
    config: {
      id: 'x',
      name: 'X',
      issuer: 'https://idp.example',
      clientId: 'client',
      clientSecret: 'secret',
      scopes: ['openid', 'email', 'profile'],
      trustEmailForLinking: false,
    },
    issuer: 'https://idp.example',
    authorizationEndpoint: 'https://idp.example/authorize',
    tokenEndpoint: 'https://idp.example/token',
  } as unknown as DiscoveredProvider;

  it('is passport-openidconnect with a fixed-arity verify callback that receives the ID token', () => {
    const s = new HardenedOidcStrategy(provider, 'https://gh.example/cb', () => {
      throw new Error('not called');
    });
    assert.ok(s instanceof OpenIDConnectStrategy);
    // passReqToCallback with arity 6: (req, issuer, profile, context, idToken, done).
    const internals = s as unknown as {
      _verify: { length: number };
      _passReqToCallback: boolean;
      _skipUserProfile: boolean;
      _nonce: unknown;
      _callbackURL: string;
      _scope: string[];
    };
    assert.equal(HardenedOidcStrategy.prototype.validate.length, 5);
    assert.equal(internals._verify.length, 6);
    assert.equal(internals._passReqToCallback, true);
    assert.equal(internals._skipUserProfile, true, 'UserInfo is never fetched');
    assert.ok(internals._nonce, 'a nonce on every authorization request');
    assert.equal(internals._callbackURL, 'https://gh.example/cb');
    assert.deepEqual(internals._scope, ['email', 'profile'], 'openid is added once by the library');
  });

  it('makes S256 PKCE pairs', () => {
    const { verifier, challenge } = pkcePair();
    assert.match(verifier, /^[\w-]{43}$/);
    assert.equal(createHash('sha256').update(verifier).digest('base64url'), challenge);
    assert.notEqual(pkcePair().verifier, verifier);
  });
});
