import type { FastifyReply } from 'fastify';

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

/**
 * The shared look of every server-rendered page (and the console): indigo on slate, white cards
 * with a 1px border, 8px radius, system fonts, nothing loaded from elsewhere. Contrast checked for
 * WCAG 2.2 AA: text #0f172a and muted #475569 on white or #f8fafc, white on #4f46e5, #b91c1c on
 * #fef2f2, #3730a3 on #eef2ff.
 */
const STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f8fafc;color:#0f172a;display:flex;flex-direction:column}
a{color:#4338ca;text-underline-offset:2px}
a:hover{color:#3730a3}
:focus-visible{outline:2px solid #4f46e5;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;border:1px solid #e2e8f0;border-radius:8px;z-index:2}
.skip:focus{left:1rem;top:.5rem}
header.site{background:#fff;border-bottom:1px solid #e2e8f0}
header.site .bar{max-width:72rem;margin:0 auto;padding:.75rem 1.25rem;display:flex;align-items:center;gap:.6rem}
.wordmark{display:inline-flex;align-items:center;gap:.5rem;font-weight:700;font-size:1.125rem;color:#0f172a;text-decoration:none;letter-spacing:-.01em}
.wordmark:hover{color:#0f172a}
.wordmark svg{flex:none}
main{flex:1;width:100%;max-width:28rem;margin:0 auto;padding:2.5rem 1rem 3rem}
main.wide{max-width:48rem}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:2rem;box-shadow:0 1px 2px rgba(15,23,42,.04)}
footer.site{color:#475569;font-size:.8125rem;text-align:center;padding:0 1rem 1.5rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .375rem;letter-spacing:-.01em}
h2{font-size:1.125rem;margin:1.5rem 0 .5rem}
p{margin:0 0 1rem}
p.lead{margin:0 0 1.5rem;color:#475569}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;font-size:.9375rem;margin:0 0 .3rem}
.hint{display:block;color:#475569;font-size:.875rem;margin:.3rem 0 0}
input[type=email],input[type=text],input[type=password]{display:block;width:100%;padding:.625rem .75rem;border:1px solid #64748b;border-radius:8px;font:inherit;color:#0f172a;background:#fff}
input:focus{outline:2px solid #4f46e5;outline-offset:1px;border-color:#4f46e5}
input[readonly]{background:#f1f5f9;color:#334155}
input[aria-invalid=true]{border-color:#b91c1c}
.field-error{display:block;color:#b91c1c;font-size:.875rem;font-weight:600;margin:.3rem 0 0}
[hidden]{display:none!important}
button,.button{display:block;width:100%;margin-top:1.25rem;padding:.675rem 1rem;border:1px solid #4f46e5;border-radius:8px;background:#4f46e5;color:#fff;font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
button:hover,.button:hover{background:#4338ca;border-color:#4338ca;color:#fff}
.button.secondary,button.secondary{background:#fff;color:#0f172a;border:1px solid #cbd5e1;margin-top:.625rem}
.button.secondary:hover,button.secondary:hover{background:#f1f5f9;color:#0f172a}
.links{display:flex;justify-content:space-between;flex-wrap:wrap;gap:.5rem 1rem;margin:1.25rem 0 0;font-size:.9375rem}
.divider{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 .5rem;color:#475569;font-size:.875rem}
.divider::before,.divider::after{content:"";flex:1;border-top:1px solid #e2e8f0}
.alert{padding:.75rem 1rem;border-radius:8px;background:#fef2f2;color:#b91c1c;border:1px solid #fecaca;margin:0 0 1.25rem}
.note{padding:.75rem 1rem;border-radius:8px;background:#eef2ff;color:#3730a3;border:1px solid #c7d2fe;margin:0 0 1.25rem}
.success{padding:.75rem 1rem;border-radius:8px;background:#f0fdf4;color:#166534;border:1px solid #bbf7d0;margin:0 0 1.25rem}
.status-code{display:inline-block;font-size:.8125rem;font-weight:700;color:#4338ca;background:#eef2ff;border-radius:999px;padding:.125rem .625rem;margin:0 0 .75rem}
dl{margin:0 0 1rem;display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{color:#475569}dd{margin:0;font-weight:600;word-break:break-all}
small{color:#475569}
code{background:#f1f5f9;padding:.1rem .3rem;border-radius:4px;font-size:.875em}
@media (max-width:480px){main{padding:1.25rem .75rem 2rem}.card{padding:1.25rem}h1{font-size:1.3125rem}}
`;

const LOGO = new Html(
  '<svg width="24" height="24" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect width="24" height="24" rx="6" fill="#4f46e5"/><path d="M7 18V10l5-4 5 4v8h-3v-5h-4v5z" fill="#fff"/></svg>',
);

export interface PageOptions {
  /** A wider card (48rem instead of 28rem), for pages with tables or long text. */
  wide?: boolean;
}

/** The whole document around a page's body: header with the wordmark, one card, a footer. */
export function renderPage(title: string, body: Html, options: PageOptions = {}): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <meta name="color-scheme" content="light" />
        <title>${title} · Gatehouse</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <a class="skip" href="#content">Skip to content</a>
        <header class="site">
          <div class="bar">
            <a class="wordmark" href="/">${LOGO}<span>Gatehouse</span></a>
          </div>
        </header>
        <main id="content" class="${options.wide ? 'wide' : ''}">
          <div class="card">${body}</div>
        </main>
        <footer class="site">Gatehouse identity and access</footer>
      </body>
    </html> `.value;
}

/** Sends a page: never cached, never framed, the referrer kept same-origin so forms carry Origin. */
export function sendPage(
  res: FastifyReply,
  status: number,
  title: string,
  body: Html,
  options: PageOptions = {},
): void {
  res
    .status(status)
    .headers({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
    })
    .send(renderPage(title, body, options));
}

/**
 * Paths whose errors keep their own machine-readable format (problem+json, OAuth, SCIM, JSON
 * health); every other path is for people, and answers errors with an HTML page.
 */
const MACHINE_PATHS = /^\/(api|scim|\.well-known|health|metrics|oauth|oidc)(\/|$)/;

export function isMachinePath(path: string): boolean {
  return MACHINE_PATHS.test(path);
}

/** The HTML page for an error on a path for people: 404, 5xx and anything else not handled. */
export function errorStatusPage(problem: {
  status: number;
  title: string;
  detail: string;
  correlationId?: unknown;
}): { title: string; body: Html } {
  if (problem.status === 404) {
    return {
      title: 'Page not found',
      body: html`<p class="status-code">404</p>
        <h1>Page not found</h1>
        <p class="lead">There is no page at this address. Check the link, or start again.</p>
        <a class="button" href="/">Go to Gatehouse</a>
        <a class="button secondary" href="/signin">Sign in</a>`,
    };
  }
  const server = problem.status >= 500;
  return {
    title: problem.title,
    body: html`<p class="status-code">${problem.status}</p>
      <h1>${server ? 'Something went wrong' : problem.title}</h1>
      <p class="lead">
        ${
          server
            ? problem.status === 503
              ? 'Gatehouse cannot answer right now. Please try again in a moment.'
              : 'Gatehouse could not finish this request. Please try again; if it keeps happening, tell your administrator.'
            : problem.detail
        }
      </p>
      ${
        typeof problem.correlationId === 'string'
          ? html`<p>
              <small>Reference: <code>${problem.correlationId}</code></small>
            </p>`
          : ''
      }
      <a class="button" href="/">Go to Gatehouse</a>`,
  };
}

export interface FieldOptions {
  name: string;
  label: string;
  type: 'text' | 'email' | 'password';
  autocomplete: string;
  /** Kept after a refused post (never for passwords). */
  value?: string;
  /** The message shown next to the field, read out with it (aria-describedby). */
  error?: string | null;
  hint?: string;
  required?: boolean;
  autofocus?: boolean;
  maxLength?: number;
}

/** One labelled input with its hint and error message, wired for screen readers. */
export function field(o: FieldOptions): Html {
  const errorId = `${o.name}-error`;
  const hintId = `${o.name}-hint`;
  const described = [o.error ? errorId : null, o.hint ? hintId : null].filter(Boolean).join(' ');
  return html`<div class="field">
    <label for="${o.name}">${o.label}</label>
    <input
      id="${o.name}"
      name="${o.name}"
      type="${o.type}"
      autocomplete="${o.autocomplete}"
      ${new Html(o.required === false ? '' : 'required')}
      ${new Html(o.autofocus ? 'autofocus' : '')}
      ${o.maxLength ? html`maxlength="${o.maxLength}"` : ''}
      ${o.type === 'password' ? '' : html`value="${o.value ?? ''}"`}
      ${o.error ? new Html('aria-invalid="true"') : ''}
      ${described ? html`aria-describedby="${described}"` : ''}
    />
    ${o.hint ? html`<span class="hint" id="${hintId}">${o.hint}</span>` : ''}
    ${o.error ? html`<span class="field-error" id="${errorId}">${o.error}</span>` : ''}
  </div>`;
}
