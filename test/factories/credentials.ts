import assert from 'node:assert/strict';
import { AuditEntry } from '#src/audit/audit-entry.entity.js';
import type { TestApp } from '../support/app.js';
import type { MadeUser } from './users.js';

/**
 * A token of ours with one character of its random body changed (not the checksum): same prefix
 * and length, but the checksum no longer matches.
 */
export function flip(token: string): string {
  const i = 10;
  const c = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + c + token.slice(i + 1);
}

export interface MadeApiKey {
  id: string;
  key: string;
  auth: { Authorization: string };
}

/** An API key made through the API by its owner's session. */
export async function makeApiKey(
  t: TestApp,
  owner: MadeUser,
  body: { name?: string; scopes?: string[]; expiresAt?: string } = {},
): Promise<MadeApiKey> {
  const res = await t.http
    .post(`/api/v1/users/${owner.user.id}/api-keys`)
    .set(owner.auth)
    .send({ name: body.name ?? 'test key', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, key: res.body.key, auth: { Authorization: `Bearer ${res.body.key}` } };
}

export interface MadeGrant {
  id: string;
  refreshToken: string;
}

export async function makeGrant(
  t: TestApp,
  owner: MadeUser,
  body: Record<string, unknown> = { type: 'service' },
): Promise<MadeGrant> {
  const res = await t.http.post(`/api/v1/users/${owner.user.id}/grants`).set(owner.auth).send(body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, refreshToken: res.body.refreshToken };
}

/** Exchanges a refresh token at the token endpoint (form-encoded, as OAuth clients do). */
export function refresh(t: TestApp, refreshToken: string, extra: Record<string, string> = {}) {
  return t.http
    .post('/api/v1/oauth/token')
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** Audit entries with this action about this user, oldest first. */
export async function auditOf(t: TestApp, action: string, userId: string): Promise<AuditEntry[]> {
  const rows = await t.db
    .getRepository(AuditEntry)
    .find({ where: { action, targetType: 'user', targetId: userId } });
  return rows.sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq)));
}

/** Every row of a table, as one string: for "no plaintext secret at rest" checks. */
export async function tableDump(t: TestApp, table: string): Promise<string> {
  return JSON.stringify(await t.db.query(`SELECT * FROM ${table}`));
}
