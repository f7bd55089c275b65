import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '#src/config/config.js';
import { SecretBox, SecretBoxError } from '#src/crypto/secret-box.js';

const SECRET = 'unit-secret-key-unit-secret-key-0123456789';

function box(env: Record<string, string> = {}): SecretBox {
  return new SecretBox(
    loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: SECRET, ...env }),
  );
}

const reason = (r: string) => (err: unknown) => err instanceof SecretBoxError && err.reason === r;

describe(SecretBox.name, () => {
  it('seals with a fresh IV each time and opens with the same additional data', () => {
    const b = box();
    const one = b.seal('hunter2-token', 'row:a');
    const two = b.seal('hunter2-token', 'row:a');
    assert.notEqual(one.ciphertext, two.ciphertext);
    assert.ok(!Buffer.from(one.ciphertext, 'base64url').toString('latin1').includes('hunter2'));
    assert.match(one.keyId, /^sk-[0-9a-f]{12}$/);
    assert.equal(b.open(one, 'row:a'), 'hunter2-token');
  });

  it('refuses other additional data (a ciphertext moved to another row) and any altered byte', () => {
    const b = box();
    const sealed = b.seal('secret', 'external_credential:u1:github');
    assert.throws(() => b.open(sealed, 'external_credential:u2:github'), reason('corrupt'));
    const raw = Buffer.from(sealed.ciphertext, 'base64url');
    raw[14] = raw[14]! ^ 1;
    assert.throws(
      () =>
        b.open(
          { ...sealed, ciphertext: raw.toString('base64url') },
          'external_credential:u1:github',
        ),
      reason('corrupt'),
    );
  });

  it('rotates: a new active key seals, old ciphertexts stay readable while their key is listed', () => {
    const old = box();
    const sealedOld = old.seal('v1', 'row');
    const k2 = randomBytes(32).toString('base64');
    const rotated = box({ ENCRYPTION_KEYS: JSON.stringify({ k2 }), ENCRYPTION_KEY_ACTIVE: 'k2' });
    assert.equal(rotated.open(sealedOld, 'row'), 'v1');
    const sealedNew = rotated.seal('v2', 'row');
    assert.equal(sealedNew.keyId, 'k2');
    assert.throws(() => old.open(sealedNew, 'row'), reason('unknown_key'));
    // Another SECRET_KEY is another derived key id: the old rows say which key they need.
    const other = new SecretBox(
      loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'x'.repeat(40) }),
    );
    assert.throws(() => other.open(sealedOld, 'row'), reason('unknown_key'));
  });

  it('validates ENCRYPTION_KEYS and ENCRYPTION_KEY_ACTIVE at start-up', () => {
    const bad = (env: Record<string, string>) =>
      assert.throws(
        () => box(env),
        (e: unknown) => e instanceof ConfigError,
      );
    bad({ ENCRYPTION_KEYS: 'not json' });
    bad({ ENCRYPTION_KEYS: JSON.stringify({ k: 'c2hvcnQ=' }) });
    bad({ ENCRYPTION_KEYS: JSON.stringify({ 'bad id!': randomBytes(32).toString('base64') }) });
    bad({ ENCRYPTION_KEY_ACTIVE: 'missing' });
  });
});
