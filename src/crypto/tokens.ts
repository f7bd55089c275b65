import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Opaque secrets: prefix + 32 random bytes (base64url) + CRC32 checksum (8 hex). The checksum lets a
 * mistyped or forged token be refused before any database lookup; the prefix makes leaks scannable.
 */
export function generateToken(prefix: string): string {
  const body = `${prefix}${randomBytes(32).toString('base64url')}`;
  return `${body}${checksum(body)}`;
}

function checksum(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

const BODY_LENGTH = 43; // base64url of 32 bytes

/**
 * Whether `token` has the prefix and length of a token of ours: what tells one kind from another
 * (a resolver's `accepts`). Says nothing of its checksum: see `isWellFormedToken`.
 */
export function hasTokenShape(token: string, prefix: string): boolean {
  return token.length === prefix.length + BODY_LENGTH + 8 && token.startsWith(prefix);
}

/** Shape, alphabet and checksum: a token that fails this is refused before any lookup. */
export function isWellFormedToken(token: string, prefix: string): boolean {
  if (!hasTokenShape(token, prefix)) return false;
  const body = token.slice(0, -8);
  if (!/^[A-Za-z0-9_-]+$/.test(body.slice(prefix.length))) return false;
  return checksum(body) === token.slice(-8);
}

/** One-shot SHA-256 (no Hash object per call: this runs on every authenticated request). */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** A short, non-secret part shown in lists so a person can tell their keys apart. */
export function visiblePrefix(token: string, prefix: string): string {
  return token.slice(0, prefix.length + 6);
}
