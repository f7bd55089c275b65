import { field, html, type Html } from '#src/common/http/html.js';

/** Field messages of a refused form, by field name. */
export type FormErrors = Record<string, string>;

export interface PageView {
  status: number;
  title: string;
  body: Html;
}

function formAlert(errors: FormErrors): Html | string {
  return Object.keys(errors).length
    ? html`<p class="alert" role="alert">Please correct the marked fields.</p>`
    : '';
}

function newPasswordFields(errors: FormErrors, minLength: number): Html {
  return html`${field({
    name: 'password',
    label: 'New password',
    type: 'password',
    autocomplete: 'new-password',
    hint: `At least ${minLength} characters. A long passphrase is best.`,
    error: errors['password'],
    autofocus: true,
  })}
  ${field({
    name: 'passwordConfirm',
    label: 'Repeat the new password',
    type: 'password',
    autocomplete: 'new-password',
    error: errors['passwordConfirm'],
  })}`;
}

function accountField(email: string): Html {
  // Read-only and labelled: password managers store the new password under this account.
  return html`<div class="field">
    <label for="account">Account</label>
    <input id="account" type="email" autocomplete="username" value="${email}" readonly />
  </div>`;
}

export function registerPage(opts: {
  values?: { email?: string; fullName?: string };
  errors?: FormErrors;
  minLength: number;
}): Html {
  const errors = opts.errors ?? {};
  return html`<h1>Create your account</h1>
    <p class="lead">One account for every application your organisation runs on Gatehouse.</p>
    ${formAlert(errors)}
    <form method="post" action="/register" novalidate>
      ${field({
        name: 'email',
        label: 'Email',
        type: 'email',
        autocomplete: 'email',
        value: opts.values?.email ?? '',
        error: errors['email'],
        maxLength: 254,
        autofocus: true,
      })}
      ${field({
        name: 'fullName',
        label: 'Full name (optional)',
        type: 'text',
        autocomplete: 'name',
        value: opts.values?.fullName ?? '',
        error: errors['fullName'],
        required: false,
        maxLength: 200,
      })}
      ${field({
        name: 'password',
        label: 'Password',
        type: 'password',
        autocomplete: 'new-password',
        hint: `At least ${opts.minLength} characters. A long passphrase is best.`,
        error: errors['password'],
      })}
      ${field({
        name: 'passwordConfirm',
        label: 'Repeat the password',
        type: 'password',
        autocomplete: 'new-password',
        error: errors['passwordConfirm'],
      })}
      <button type="submit">Create account</button>
    </form>
    <p class="links">
      <span>Already have an account? <a href="/signin">Sign in</a></span>
    </p>`;
}

export function registrationClosedPage(): PageView {
  return {
    status: 403,
    title: 'Registration is closed',
    body: html`<h1>Registration is closed</h1>
      <p class="lead">
        Accounts on this Gatehouse are created by an administrator. Ask yours for an invitation.
      </p>
      <a class="button" href="/signin">Back to sign-in</a>`,
  };
}

export function checkMailPage(opts: { heading: string; text: string }): Html {
  return html`<h1>${opts.heading}</h1>
    <p class="success" role="status">${opts.text}</p>
    <p>
      <small
        >No mail after a few minutes? Look in your spam folder, or check that the address is
        right.</small
      >
    </p>
    <a class="button secondary" href="/signin">Back to sign-in</a>`;
}

export function forgotPasswordPage(opts: { email?: string; errors?: FormErrors }): Html {
  const errors = opts.errors ?? {};
  return html`<h1>Reset your password</h1>
    <p class="lead">
      Enter the email of your account and we will mail you a link to set a new one.
    </p>
    ${formAlert(errors)}
    <form method="post" action="/forgot-password" novalidate>
      ${field({
        name: 'email',
        label: 'Email',
        type: 'email',
        autocomplete: 'email',
        value: opts.email ?? '',
        error: errors['email'],
        maxLength: 254,
        autofocus: true,
      })}
      <button type="submit">Mail me a reset link</button>
    </form>
    <p class="links"><a href="/signin">Back to sign-in</a></p>`;
}

export function resetPasswordPage(opts: {
  requestId: string;
  email: string;
  errors?: FormErrors;
  minLength: number;
}): Html {
  const errors = opts.errors ?? {};
  return html`<h1>Set a new password</h1>
    <p class="lead">
      Choose a new password for your account. Every device signed in to it will be signed out.
    </p>
    ${formAlert(errors)}
    <form method="post" action="/reset-password" novalidate>
      <input type="hidden" name="requestId" value="${opts.requestId}" />
      ${accountField(opts.email)} ${newPasswordFields(errors, opts.minLength)}
      <button type="submit">Set new password</button>
    </form>`;
}

export type BadLinkState = 'used' | 'expired' | 'unknown';

const BAD_LINK: Record<BadLinkState, { status: number; heading: string; text: string }> = {
  unknown: {
    status: 400,
    heading: 'This link is not valid',
    text: 'The link is incomplete or was never issued. Copy the whole link from the mail, or ask for a new one.',
  },
  used: {
    status: 410,
    heading: 'This link has already been used',
    text: 'Each link works once, and this one has been used. Ask for a new one if you still need it.',
  },
  expired: {
    status: 410,
    heading: 'This link has expired',
    text: 'Links work for a limited time, and this one is too old. Ask for a new one.',
  },
};

export function badResetLinkPage(state: BadLinkState): PageView {
  const t = BAD_LINK[state];
  return {
    status: t.status,
    title: t.heading,
    body: html`<h1>${t.heading}</h1>
      <p class="alert" role="alert">${t.text}</p>
      <a class="button" href="/forgot-password">Ask for a new reset link</a>
      <a class="button secondary" href="/signin">Back to sign-in</a>`,
  };
}

export function activatePage(opts: {
  token: string;
  email: string;
  /** An account without a password (invited) sets one here before it is active. */
  needsPassword: boolean;
  errors?: FormErrors;
  minLength: number;
}): Html {
  const errors = opts.errors ?? {};
  return html`<h1>Activate your account</h1>
    <p class="lead">
      ${
        opts.needsPassword
          ? 'Choose a password for your account, then activate it.'
          : 'Confirm that this address is yours to activate the account.'
      }
    </p>
    ${formAlert(errors)}
    <form method="post" action="/activate" novalidate>
      <input type="hidden" name="token" value="${opts.token}" />
      ${accountField(opts.email)}
      ${opts.needsPassword ? newPasswordFields(errors, opts.minLength) : ''}
      <button type="submit">Activate account</button>
    </form>`;
}

export function badActivationLinkPage(
  state: BadLinkState | 'resend',
  opts: { email?: string; errors?: FormErrors } = {},
): PageView {
  const errors = opts.errors ?? {};
  if (state === 'resend') {
    return {
      status: 400,
      title: 'Send a new activation link',
      body: html`<h1>Send a new activation link</h1>
        ${formAlert(errors)} ${resendForm(opts.email, errors)}`,
    };
  }
  const t = BAD_LINK[state];
  return {
    status: t.status,
    title: t.heading,
    body: html`<h1>${t.heading}</h1>
      <p class="alert" role="alert">${t.text}</p>
      <h2>Send a new activation link</h2>
      ${resendForm(opts.email, errors)}`,
  };
}

function resendForm(email: string | undefined, errors: FormErrors): Html {
  return html` <form method="post" action="/activate/resend" novalidate>
      ${field({
        name: 'email',
        label: 'Email of your account',
        type: 'email',
        autocomplete: 'email',
        value: email ?? '',
        error: errors['email'],
        maxLength: 254,
      })}
      <button type="submit">Send a new link</button>
    </form>
    <p class="links"><a href="/signin">Back to sign-in</a></p>`;
}
