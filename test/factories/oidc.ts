import type { Response } from 'supertest';
import { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { Session } from '#src/auth/entities/session.entity.js';
import { User } from '#src/users/user.entity.js';
import type { TestApp } from '../support/app.js';

/** Cookies a response sets, by name (the value only). */
export function setCookies(res: Response): Map<string, string> {
  const out = new Map<string, string>();
  const raw = res.headers['set-cookie'] as unknown as string[] | string | undefined;
  for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    const [pair = ''] = c.split(';');
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
  }
  return out;
}

/** The raw Set-Cookie line for one cookie (to check its attributes). */
export function setCookieLine(res: Response, name: string): string | undefined {
  const raw = res.headers['set-cookie'] as unknown as string[] | string | undefined;
  return (Array.isArray(raw) ? raw : raw ? [raw] : []).find((c) => c.startsWith(`${name}=`));
}

export interface StartedLogin {
  authorizeUrl: URL;
  binding: string;
  state: string;
  nonce: string;
  codeChallenge: string;
}

/** GET /auth/oidc/:provider/login: the redirect to the provider and the browser-binding cookie. */
export async function startLogin(
  t: TestApp,
  providerId: string,
  opts: { returnTo?: string; binding?: string } = {},
): Promise<StartedLogin> {
  let req = t.http
    .get(`/api/v1/auth/oidc/${providerId}/login`)
    .query(opts.returnTo !== undefined ? { returnTo: opts.returnTo } : {});
  if (opts.binding) req = req.set('Cookie', `gh_oidc=${opts.binding}`);
  const res = await req;
  if (res.status !== 302) throw new Error(`login answered ${res.status}: ${res.text}`);
  const authorizeUrl = new URL(res.headers['location'] as string);
  const binding = setCookies(res).get('gh_oidc');
  if (!binding) throw new Error('no binding cookie');
  const p = authorizeUrl.searchParams;
  return {
    authorizeUrl,
    binding,
    state: p.get('state') ?? '',
    nonce: p.get('nonce') ?? '',
    codeChallenge: p.get('code_challenge') ?? '',
  };
}

/** GET the callback (path and query of `url`) as the browser holding `binding` (and `session`). */
export function callback(
  t: TestApp,
  url: URL | string,
  binding: string | null,
  session?: string,
): Promise<Response> {
  const u = typeof url === 'string' ? new URL(url, 'http://x') : url;
  const cookies = [binding ? `gh_oidc=${binding}` : '', session ? `gh_session=${session}` : '']
    .filter(Boolean)
    .join('; ');
  const req = t.http.get(`${u.pathname}${u.search}`);
  return cookies ? req.set('Cookie', cookies) : req;
}

export async function counts(
  t: TestApp,
): Promise<{ users: number; identities: number; sessions: number }> {
  return {
    users: await t.db.getRepository(User).count(),
    identities: await t.db.getRepository(UserIdentity).count(),
    sessions: await t.db.getRepository(Session).count(),
  };
}
