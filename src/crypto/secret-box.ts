import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppConfig } from '#src/config/config.js';

export class SecretBoxError extends Error {
  constructor(
    readonly reason: 'unknown_key' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export interface Sealed {
  keyId: string;
  /** base64url(iv ‖ ciphertext ‖ tag) */
  ciphertext: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for secrets at rest (stored external credentials, private signing keys). A random
 * 12-byte IV per seal; the row's identity is the additional authenticated data, so a ciphertext
 * copied to another row fails to open; the key id is stored beside each ciphertext so keys rotate:
 * the key derived from SECRET_KEY (HKDF-SHA256) is always in the ring, ENCRYPTION_KEYS adds others,
 * ENCRYPTION_KEY_ACTIVE picks the one new seals use. Old rows stay readable while their key is listed.
 */
@Injectable()
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly activeKeyId: string;

  constructor(config: AppConfig) {
    const derived = Buffer.from(
      hkdfSync('sha256', config.secretKey, 'gatehouse', 'gatehouse/secret-box/aes-256-gcm', 32),
    );
    // The derived key's id is a fingerprint (another HKDF output): a new SECRET_KEY gets a new id,
    // so rows sealed under the old one fail with "unknown key" rather than a confusing auth failure.
    const fingerprint = Buffer.from(
      hkdfSync('sha256', config.secretKey, 'gatehouse', 'gatehouse/secret-box/key-id', 6),
    ).toString('hex');
    const derivedId = `sk-${fingerprint}`;
    this.keys.set(derivedId, derived);
    for (const [kid, b64] of Object.entries(config.encryptionKeys)) {
      this.keys.set(kid, Buffer.from(b64, 'base64'));
    }
    this.activeKeyId = config.encryptionKeyActive ?? derivedId;
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  seal(plaintext: string, aad: string): Sealed {
    const key = this.keys.get(this.activeKeyId);
    if (!key) throw new SecretBoxError('unknown_key', 'the active encryption key is missing');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: this.activeKeyId,
      ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url'),
    };
  }

  open(sealed: Sealed, aad: string): string {
    const key = this.keys.get(sealed.keyId);
    if (!key)
      throw new SecretBoxError('unknown_key', `encryption key ${sealed.keyId} is not configured`);
    const raw = Buffer.from(sealed.ciphertext, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES)
      throw new SecretBoxError('corrupt', 'ciphertext too short');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('corrupt', 'ciphertext failed authentication');
    }
  }
}
