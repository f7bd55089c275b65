import { fastifyCookie } from '@fastify/cookie';
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { AppConfig } from '#src/config/config.js';
import { declaresSessionCookie, SESSION_COOKIE } from '#src/kernel/auth.guard.js';

/** HttpOnly, SameSite=Lax (Strict would break the IdP's redirect back), Secure when served over https. */
export function setSessionCookie(
  res: FastifyReply,
  config: AppConfig,
  token: string,
  expiresAt: string,
): void {
  // A route that signs in must say so, so that the guard refuses cross-site forms before it runs.
  if (!declaresSessionCookie(res.request)) {
    throw new Error(
      'This route sets the session cookie without @Public({ setsSessionCookie: true }).',
    );
  }
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure: config.secureCookies,
    sameSite: 'lax',
    path: '/',
    expires: new Date(expiresAt),
  });
}

function clearOptions(config: AppConfig) {
  return { httpOnly: true, secure: config.secureCookies, sameSite: 'lax' as const, path: '/' };
}

export function clearSessionCookie(res: FastifyReply, config: AppConfig): void {
  res.clearCookie(SESSION_COOKIE, clearOptions(config));
}

/**
 * The same, on the raw response of a request handed over to another handler (the OpenID
 * Provider): @fastify/cookie writes its cookies when Fastify sends the reply, which a hijacked
 * reply never does.
 */
export function clearSessionCookieRaw(res: ServerResponse, config: AppConfig): void {
  res.appendHeader(
    'Set-Cookie',
    fastifyCookie.serialize(SESSION_COOKIE, '', { ...clearOptions(config), expires: new Date(0) }),
  );
}
