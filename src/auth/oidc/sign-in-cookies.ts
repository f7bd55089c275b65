import type { FastifyReply } from 'fastify';
import type { AppConfig } from '#src/config/config.js';
import { LOGIN_ATTEMPT_TTL_MS } from '#src/auth/oidc/oidc-sign-in.service.js';
import { PENDING_LINK_TTL_MS } from '#src/auth/oidc/oidc-linking.service.js';

/** Binds login attempts to the browser that started them (shared by its tabs). */
export const BINDING_COOKIE = 'gh_oidc';
const BINDING_PATH = '/api/v1/auth/oidc';
/** Carries the pending confirm-link token to the confirm page of the same browser. */
export const LINK_COOKIE = 'gh_link';
const LINK_PATH = '/signin';

// SameSite=Lax: sent on the IdP's top-level redirect back to us (Strict would not be), never on
// cross-site POSTs.
function base(config: AppConfig, path: string) {
  return { httpOnly: true, secure: config.secureCookies, sameSite: 'lax' as const, path };
}

export function setBindingCookie(res: FastifyReply, config: AppConfig, value: string): void {
  res.cookie(BINDING_COOKIE, value, {
    ...base(config, BINDING_PATH),
    maxAge: LOGIN_ATTEMPT_TTL_MS / 1000, // seconds (@fastify/cookie)
  });
}

export function setLinkCookie(res: FastifyReply, config: AppConfig, value: string): void {
  res.cookie(LINK_COOKIE, value, {
    ...base(config, LINK_PATH),
    maxAge: PENDING_LINK_TTL_MS / 1000,
  });
}

export function clearLinkCookie(res: FastifyReply, config: AppConfig): void {
  res.clearCookie(LINK_COOKIE, base(config, LINK_PATH));
}

export function cookieOf(cookies: unknown, name: string): string | undefined {
  const v = (cookies as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
}
