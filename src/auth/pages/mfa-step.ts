import type { FastifyReply } from 'fastify';
import type { AppConfig } from '#src/config/config.js';
import { html, type Html } from '#src/auth/pages/html.js';
import { DEFAULT_RETURN_TO } from '#src/auth/oidc/return-to.js';
import { MFA_TOKEN_MINUTES } from '#src/auth/mfa/mfa.service.js';

/** Carries the mfaToken of a two-step page sign-in from /signin to /signin/mfa (same browser). */
export const MFA_COOKIE = 'gh_mfa';
const MFA_PATH = '/signin';

function base(config: AppConfig) {
  return { httpOnly: true, secure: config.secureCookies, sameSite: 'lax' as const, path: MFA_PATH };
}

export function setMfaCookie(res: FastifyReply, config: AppConfig, token: string): void {
  res.cookie(MFA_COOKIE, token, { ...base(config), maxAge: MFA_TOKEN_MINUTES * 60 }); // seconds
}

export function clearMfaCookie(res: FastifyReply, config: AppConfig): void {
  res.clearCookie(MFA_COOKIE, base(config));
}

export function mfaStepUrl(returnTo: string): string {
  return returnTo === DEFAULT_RETURN_TO
    ? '/signin/mfa'
    : `/signin/mfa?returnTo=${encodeURIComponent(returnTo)}`;
}

/**
 * The code step: a TOTP code or a recovery code in one field (plain HTML, no script needed), and,
 * when the account has a passkey, a "Use a passkey" button that /signin/passkey.js shows and
 * drives (the assertion is posted with the second form).
 */
export function mfaStepPage(opts: {
  returnTo: string;
  error?: string | null;
  passkey?: boolean;
}): Html {
  return html`<h1>Two-step sign-in</h1>
    <p class="lead">
      Enter the 6-digit code from your authenticator app, or one of your recovery codes.
    </p>
    ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
    ${
      opts.passkey
        ? html`<form method="post" action="/signin/mfa" id="passkey-form">
              <input type="hidden" name="returnTo" value="${opts.returnTo}" />
              <input type="hidden" name="webauthn" value="" />
              <button type="button" class="secondary" id="passkey-mfa" hidden>Use a passkey</button>
            </form>
            <p class="alert" role="alert" id="passkey-status" hidden></p>
            <script src="/signin/passkey.js" defer></script>`
        : ''
    }
    <form method="post" action="/signin/mfa">
      <input type="hidden" name="returnTo" value="${opts.returnTo}" />
      <label for="code">Code</label>
      <input
        id="code"
        name="code"
        type="text"
        inputmode="text"
        autocomplete="one-time-code"
        autocapitalize="characters"
        spellcheck="false"
        maxlength="24"
        required
        autofocus
      />
      <button type="submit">Verify</button>
    </form>
    <p>
      <small><a href="/signin">Start again</a></small>
    </p>`;
}
