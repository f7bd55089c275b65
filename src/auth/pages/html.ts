import { FAILURES, type SignInError } from '#src/auth/oidc/sign-in-error.js';

// The shared look lives in common/http (the error filter renders HTML error pages with it);
// these names stay exported here for every page module that already imports them from auth.
export {
  escapeHtml,
  Html,
  html,
  renderPage,
  sendPage,
  type PageOptions,
} from '#src/common/http/html.js';
import { field, html, type Html } from '#src/common/http/html.js';

export interface ProviderButton {
  name: string;
  url: string;
}

/** Fixed notices the sign-in page can show (`?notice=`), so no one can put words on it. */
export const SIGN_IN_NOTICES: Record<string, string> = {
  'password-reset': 'Your password has been changed. Sign in with the new one.',
  activated: 'Your account is active. Sign in to continue.',
  registered: 'Your account has been created. Sign in to continue.',
};

export function signInPage(opts: {
  providers: ProviderButton[];
  returnTo: string;
  username?: string;
  error?: string | null;
  notice?: string | null;
  /** "Create account" is offered when REGISTRATION is not `closed`. */
  registrationOpen?: boolean;
}): Html {
  const providers = opts.providers.map(
    (p) => html`<a class="button secondary" href="${p.url}">Sign in with ${p.name}</a>`,
  );
  return html`<h1>Sign in to Gatehouse</h1>
    <p class="lead">Use your email and password, or your organisation's sign-in.</p>
    ${opts.notice ? html`<p class="success" role="status">${opts.notice}</p>` : ''}
    ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
    <form method="post" action="/signin">
      <input type="hidden" name="returnTo" value="${opts.returnTo}" />
      ${field({
        name: 'username',
        label: 'Email',
        type: 'text',
        autocomplete: 'username',
        value: opts.username ?? '',
        maxLength: 254,
      })}
      ${field({
        name: 'password',
        label: 'Password',
        type: 'password',
        autocomplete: 'current-password',
      })}
      <button type="submit">Sign in</button>
    </form>
    <p class="links">
      <a href="/forgot-password">Forgot password?</a>
      ${opts.registrationOpen ? html`<a href="/register">Create account</a>` : ''}
    </p>
    <div id="passkey-area" hidden>
      <div class="divider">or</div>
      <button type="button" class="secondary" id="passkey-signin" data-return-to="${opts.returnTo}">
        Sign in with a passkey
      </button>
      <p class="alert" role="alert" id="passkey-status" hidden></p>
    </div>
    ${
      providers.length
        ? html`<div class="divider">or</div>
            ${providers}`
        : ''
    }
    <script src="/signin/passkey.js" defer></script>`;
}

export function confirmLinkPage(opts: {
  providerName: string;
  externalEmail: string | null;
  accountEmail: string;
  error?: string | null;
}): Html {
  return html`<h1>Link your ${opts.providerName} sign-in</h1>
    <p class="lead">
      An account with this email address already exists here. To link your ${opts.providerName}
      sign-in to it, prove that it is yours with its password. This is asked only once.
    </p>
    ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
    <dl>
      <dt>Provider</dt>
      <dd>${opts.providerName}</dd>
      <dt>Provider email</dt>
      <dd>${opts.externalEmail ?? '(none)'}</dd>
      <dt>Account here</dt>
      <dd>${opts.accountEmail}</dd>
    </dl>
    <form method="post" action="/signin/link">
      <label for="password">Password of the account here</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="current-password"
        required
      />
      <button type="submit">Link and sign in</button>
    </form>
    <a class="button secondary" href="/signin">Cancel</a>
    <p>
      <small
        >If you did not just sign in with ${opts.providerName}, cancel: someone may be trying to
        attach their account to yours.</small
      >
    </p>`;
}

export function errorPage(err: SignInError): { status: number; title: string; body: Html } {
  const text = FAILURES[err.reason];
  return {
    status: text.status,
    title: text.title,
    body: html`<h1>${text.title}</h1>
      <p class="alert" role="alert">${text.message}</p>
      ${
        err.providerCode
          ? html`<p>
              <small>The identity provider's error code: <code>${err.providerCode}</code></small>
            </p>`
          : ''
      }
      <p>
        <small>Reference: <code>${err.reason}</code></small>
      </p>
      <a class="button${text.retry ? '' : ' secondary'}" href="/signin"
        >${text.retry ? 'Back to sign-in' : 'Back'}</a
      >`,
  };
}

export function signedInPage(opts: { email: string; fullName: string | null }): Html {
  return html`<h1>You are signed in</h1>
    <p class="note">
      Signed in as
      <strong>${opts.fullName ?? opts.email}</strong>${opts.fullName ? html` (${opts.email})` : ''}.
    </p>
    <form method="post" action="/signin/signout">
      <button type="submit" class="button secondary">Sign out</button>
    </form>`;
}
