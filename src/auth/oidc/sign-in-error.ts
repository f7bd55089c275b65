import { OidcError } from '#src/auth/oidc/oidc-providers.service.js';

/**
 * Why a browser sign-in did not complete. Each reason has a fixed, plain-words explanation on the
 * error page; nothing the identity provider sent is ever shown except a whitelisted error code.
 */
export type SignInFailure =
  | 'unknown_provider'
  | 'bad_return_to'
  | 'idp_unavailable'
  | 'idp_misconfigured'
  | 'idp_bad_response'
  | 'idp_error'
  | 'token_refused'
  | 'state_invalid'
  | 'bad_callback'
  | 'token_invalid'
  | 'token_expired'
  | 'nonce_mismatch'
  | 'audience_invalid'
  | 'email_missing'
  | 'email_not_verified'
  | 'other_identity_at_issuer'
  | 'identity_linked_elsewhere'
  | 'account_not_active'
  | 'link_no_password'
  | 'link_expired'
  | 'csrf'
  | 'bad_input'
  | 'internal';

export class SignInError extends Error {
  constructor(
    readonly reason: SignInFailure,
    message: string = reason,
    /** A short code from the provider (already checked to be a plain token), shown escaped. */
    readonly providerCode: string | null = null,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export interface FailureText {
  status: number;
  title: string;
  message: string;
  /** Offer "start again" (sign-in page) rather than only "back". */
  retry: boolean;
}

export const FAILURES: Record<SignInFailure, FailureText> = {
  unknown_provider: {
    status: 404,
    title: 'Unknown sign-in provider',
    message: 'This server has no identity provider by that name. Choose one on the sign-in page.',
    retry: true,
  },
  bad_return_to: {
    status: 400,
    title: 'Invalid return address',
    message:
      'The page to return to after signing in must be a page on this site (a path such as /projects).',
    retry: true,
  },
  idp_unavailable: {
    status: 502,
    title: 'The identity provider did not answer',
    message:
      'The identity provider could not be reached, or did not answer in time. Nothing was changed. Try again in a moment.',
    retry: true,
  },
  idp_misconfigured: {
    status: 502,
    title: 'The identity provider is misconfigured',
    message:
      "The identity provider's published configuration does not match what this server expects (its issuer differs). Tell your administrator.",
    retry: false,
  },
  idp_bad_response: {
    status: 502,
    title: 'The identity provider sent an unreadable answer',
    message:
      'The identity provider answered with something this server could not understand (no valid tokens). Nothing was changed. Try again, or tell your administrator if it keeps happening.',
    retry: true,
  },
  idp_error: {
    status: 400,
    title: 'The identity provider did not sign you in',
    message:
      'The identity provider stopped the sign-in (you may have cancelled it, or it refused this application). You are not signed in.',
    retry: true,
  },
  token_refused: {
    status: 400,
    title: 'The identity provider refused to finish the sign-in',
    message:
      'The identity provider would not exchange the sign-in code for tokens (it may have expired or been used already). Start again.',
    retry: true,
  },
  state_invalid: {
    status: 400,
    title: 'This sign-in attempt is unknown or expired',
    message:
      'This sign-in response does not belong to a sign-in started in this browser, was already used, or is more than ten minutes old. Start again.',
    retry: true,
  },
  bad_callback: {
    status: 400,
    title: 'Incomplete sign-in response',
    message: 'The answer from the identity provider was incomplete. Start again.',
    retry: true,
  },
  token_invalid: {
    status: 400,
    title: 'The sign-in could not be verified',
    message:
      "The identity provider's answer failed verification (its signature, issuer or contents are not valid). You are not signed in.",
    retry: true,
  },
  token_expired: {
    status: 400,
    title: 'The sign-in has expired',
    message:
      "The identity provider's answer had already expired when it arrived (check that the clocks are right). Start again.",
    retry: true,
  },
  nonce_mismatch: {
    status: 400,
    title: 'The sign-in does not match this attempt',
    message:
      "The identity provider's answer was made for a different sign-in attempt. You are not signed in. Start again.",
    retry: true,
  },
  audience_invalid: {
    status: 400,
    title: 'The sign-in was meant for another application',
    message:
      "The identity provider's answer was issued for another application, or for more than this one. You are not signed in.",
    retry: true,
  },
  email_missing: {
    status: 403,
    title: 'No email address from the identity provider',
    message:
      'The identity provider did not share a usable email address, so no account can be found or created. Ask your administrator to allow the "email" scope.',
    retry: false,
  },
  email_not_verified: {
    status: 403,
    title: 'Email address not verified by the identity provider',
    message:
      'An account with this email address already exists here, but the identity provider does not confirm that the address is yours, so it cannot be linked. Verify the address at your identity provider, or sign in with your password.',
    retry: true,
  },
  other_identity_at_issuer: {
    status: 403,
    title: 'Already linked to another account at this provider',
    message:
      'Your account here is already linked to a different account at this identity provider. Sign in with that one, or unlink it first in your account settings.',
    retry: true,
  },
  identity_linked_elsewhere: {
    status: 403,
    title: 'This identity belongs to another account',
    message:
      'This account at the identity provider was linked to a different account here in the meantime. Nothing was changed.',
    retry: true,
  },
  account_not_active: {
    status: 403,
    title: 'This account cannot sign in',
    message:
      'The account with this email address is disabled or has not been activated yet. Use your activation mail, or ask an administrator.',
    retry: false,
  },
  link_no_password: {
    status: 403,
    title: 'Cannot confirm the link',
    message:
      'An account with this email address exists, but it has no password with which to confirm the link. Sign in the way you usually do, or ask an administrator.',
    retry: true,
  },
  link_expired: {
    status: 400,
    title: 'The linking step expired',
    message:
      'The account-linking step is unknown, was already used, had too many wrong passwords, or is more than ten minutes old. Sign in again.',
    retry: true,
  },
  internal: {
    status: 500,
    title: 'Something went wrong here',
    message:
      'Something failed on this server while signing you in. Nothing was changed. Try again.',
    retry: true,
  },
  bad_input: {
    status: 400,
    title: 'The request could not be read',
    message:
      'Something in this request (a control character or a broken character, say) cannot be used. Open the sign-in page and try again.',
    retry: true,
  },
  csrf: {
    status: 403,
    title: 'Form sent from another site',
    message:
      'This form was not sent from a page of this site, so it was refused. Open the sign-in page and try again.',
    retry: true,
  },
};

/** Maps whatever went wrong (our errors, the provider service's, the library's) to a reason. */
export function toSignInError(err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  if (err instanceof OidcError) {
    switch (err.reason) {
      case 'unknown_provider':
        return new SignInError('unknown_provider', err.message);
      case 'issuer_mismatch':
      case 'discovery_failed':
        return new SignInError('idp_misconfigured', err.message);
      case 'idp_unavailable':
        return new SignInError('idp_unavailable', err.message);
      case 'token_expired':
        return new SignInError('token_expired', err.message);
      case 'nonce_mismatch':
        return new SignInError('nonce_mismatch', err.message);
      case 'audience_invalid':
        return new SignInError('audience_invalid', err.message);
      case 'token_invalid':
        return new SignInError('token_invalid', err.message);
    }
  }
  const e = err as { name?: string; code?: unknown; oauthError?: unknown; message?: unknown };
  // passport-openidconnect wraps errors of the token request in InternalOAuthError.
  if (e?.name === 'InternalOAuthError' && e.oauthError !== undefined)
    return toSignInError(e.oauthError);
  if (e?.name === 'TokenError') return new SignInError('token_refused', 'token request refused');
  if (e?.name === 'AuthorizationError')
    return new SignInError('idp_error', 'provider error', plainCode(e.code));
  return new SignInError(
    'idp_bad_response',
    typeof e?.message === 'string' ? e.message : 'unexpected',
  );
}

/** The library's `fail()` messages (checks on unverified claims) mapped to reasons. */
export function failureFromMessage(message: string | null): SignInError {
  const m = message ?? '';
  if (/state/i.test(m)) return new SignInError('state_invalid', m);
  if (/expired/i.test(m)) return new SignInError('token_expired', m);
  if (/nonce/i.test(m)) return new SignInError('nonce_mismatch', m);
  if (/relying party|audience|authorized party|authorizied party/i.test(m))
    return new SignInError('audience_invalid', m);
  return new SignInError('token_invalid', m);
}

/** An OAuth error code is shown only when it is a plain token (RFC 6749 error codes are). */
export function plainCode(code: unknown): string | null {
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : null;
}
