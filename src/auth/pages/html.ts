import type { Response } from 'express';
import { FAILURES, type SignInError } from '#src/auth/oidc/sign-in-error.js';

/** Every interpolated value goes through this: text and attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A template tag that escapes every interpolation unless it is already rendered `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const part = Array.isArray(v)
      ? v.map((x) => (x instanceof Html ? x.value : escapeHtml(x))).join('')
      : v instanceof Html
        ? v.value
        : v === null || v === undefined || v === false
          ? ''
          : escapeHtml(v);
    out += part + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}
main{max-width:26rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.1),0 8px 24px rgba(0,0,0,.06)}
h1{font-size:1.4rem;margin:0 0 .25rem}
p.lead{margin:0 0 1.5rem;color:#4b5563}
label{display:block;font-weight:600;font-size:.9rem;margin:1rem 0 .3rem}
input[type=email],input[type=text],input[type=password]{width:100%;padding:.6rem .75rem;border:1px solid #d1d5db;border-radius:8px;font:inherit}
input:focus{outline:2px solid #2563eb;outline-offset:1px;border-color:#2563eb}
button,.button{display:block;width:100%;margin-top:1.25rem;padding:.65rem 1rem;border:0;border-radius:8px;background:#2563eb;color:#fff;font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
button:hover,.button:hover{background:#1d4ed8}
.button.secondary{background:#fff;color:#111827;border:1px solid #d1d5db;margin-top:.6rem}
.button.secondary:hover{background:#f9fafb}
.divider{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 .5rem;color:#6b7280;font-size:.85rem}
.divider::before,.divider::after{content:"";flex:1;border-top:1px solid #e5e7eb}
.alert{padding:.75rem 1rem;border-radius:8px;background:#fef2f2;color:#991b1b;border:1px solid #fecaca;margin:0 0 1rem}
.note{padding:.75rem 1rem;border-radius:8px;background:#eff6ff;color:#1e3a8a;border:1px solid #bfdbfe;margin:0 0 1rem}
dl{margin:0 0 1rem;display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{color:#6b7280}dd{margin:0;font-weight:600;word-break:break-all}
small{color:#6b7280}
code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}
`;

function layout(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>${title} · Gatehouse</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.value;
}

/** Sends a page: never cached, never framed, the referrer kept same-origin so forms carry Origin. */
export function sendPage(res: Response, status: number, title: string, body: Html): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
    })
    .send(layout(title, body));
}

export interface ProviderButton {
  name: string;
  url: string;
}

export function signInPage(opts: {
  providers: ProviderButton[];
  returnTo: string;
  username?: string;
  error?: string | null;
}): Html {
  const providers = opts.providers.map(
    (p) => html`<a class="button secondary" href="${p.url}">Sign in with ${p.name}</a>`,
  );
  return html`<h1>Sign in to Gatehouse</h1>
    <p class="lead">Use your email and password, or your organisation's sign-in.</p>
    ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
    <form method="post" action="/signin">
      <input type="hidden" name="returnTo" value="${opts.returnTo}" />
      <label for="username">Email</label>
      <input
        id="username"
        name="username"
        type="text"
        autocomplete="username"
        required
        value="${opts.username ?? ''}"
      />
      <label for="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="current-password"
        required
      />
      <button type="submit">Sign in</button>
    </form>
    ${
      providers.length
        ? html`<div class="divider">or</div>
            ${providers}`
        : ''
    }`;
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
