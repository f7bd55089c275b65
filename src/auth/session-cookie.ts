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

export function clearSessionCookie(res: FastifyReply, config: AppConfig): void {
  res.clearCookie(SESSION_COOKIE, {
    httpOnly: true,
    secure: config.secureCookies,
    sameSite: 'lax',
    path: '/',
  });
}
