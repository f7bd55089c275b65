import { html, type Html } from '#src/auth/pages/html.js';
import { field } from '#src/common/http/html.js';
import type {
  InvitationPreview,
  TokenProblem,
} from '#src/tenancy/invitations/invitations.service.js';

export const TOKEN_PAGES: Record<TokenProblem, { status: number; title: string; message: string }> =
  {
    invalid: {
      status: 400,
      title: 'Invitation link not valid',
      message:
        'This invitation link is not valid: it may be incomplete. Open the link from the mail again, or ask the workspace admin to invite you again.',
    },
    used: {
      status: 410,
      title: 'Invitation already used',
      message:
        'This invitation was already accepted or declined. If you accepted it, sign in; otherwise ask the workspace admin to invite you again.',
    },
    expired: {
      status: 410,
      title: 'Invitation expired',
      message: 'This invitation has expired. Ask the workspace admin to invite you again.',
    },
    revoked: {
      status: 410,
      title: 'Invitation revoked',
      message:
        'The workspace admin revoked this invitation (or sent a newer one). Use the newest mail, or ask them to invite you again.',
    },
  };

export function tokenProblemPage(problem: TokenProblem): Html {
  const p = TOKEN_PAGES[problem];
  return html`<h1>${p.title}</h1>
    <p class="alert" role="alert">${p.message}</p>
    <a class="button secondary" href="/signin">Go to sign-in</a>`;
}

/** The invitation, with what the visitor can do: accept (signed in, or setting a password) or decline. */
export function invitationPage(opts: {
  preview: InvitationPreview;
  token: string;
  signedInAs: string | null;
  error?: string | null;
  /** The message at the password field when the password was refused. */
  passwordError?: string | null;
}): Html {
  const { preview, token } = opts;
  const inv = preview.invitation;
  const signedInAsInvitee =
    opts.signedInAs !== null && opts.signedInAs.toLowerCase() === inv.emailNormalized;
  const needsPassword = !preview.accountHasPassword && !signedInAsInvitee;
  const signInHref = `/signin?returnTo=${encodeURIComponent(`/invite?token=${token}`)}`;
  let accept: Html;
  if (needsPassword) {
    accept = html`<form method="post" action="/invite">
      <input type="hidden" name="token" value="${token}" />
      <input type="hidden" name="action" value="accept" />
      <label for="username">Email</label>
      <input
        id="username"
        name="username"
        type="email"
        autocomplete="username"
        readonly
        value="${inv.email}"
      />
      ${field({
        name: 'password',
        label: 'Choose a password',
        type: 'password',
        autocomplete: 'new-password',
        hint: `At least 12 characters. It signs you in as ${inv.email}.`,
        error: opts.passwordError ?? null,
        autofocus: opts.passwordError ? true : false,
      })}
      <button type="submit">Accept and create my password</button>
    </form>`;
  } else if (signedInAsInvitee) {
    accept = html`<form method="post" action="/invite">
      <input type="hidden" name="token" value="${token}" />
      <input type="hidden" name="action" value="accept" />
      <button type="submit">Accept and join</button>
    </form>`;
  } else {
    accept = html`<p class="note">
        ${
          opts.signedInAs
            ? html`You are signed in as ${opts.signedInAs}. This invitation is for ${inv.email}:
              sign in with that account to accept it.`
            : html`Sign in as ${inv.email} to accept this invitation.`
        }
      </p>
      <a class="button" href="${signInHref}">Sign in as ${inv.email}</a>`;
  }
  return html`<h1>Join ${preview.workspaceTitle}</h1>
    <p class="lead">
      ${preview.inviterEmail ?? 'A workspace admin'} invited you to the Gatehouse workspace
      ${preview.workspaceTitle}.
    </p>
    ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
    <dl>
      <dt>Workspace</dt>
      <dd>${preview.workspaceTitle}</dd>
      <dt>Invited email</dt>
      <dd>${inv.email}</dd>
      <dt>Role</dt>
      <dd>${inv.role}</dd>
      <dt>Expires</dt>
      <dd>${inv.expiresAt.toUTCString()}</dd>
    </dl>
    ${accept}
    <form method="post" action="/invite">
      <input type="hidden" name="token" value="${token}" />
      <input type="hidden" name="action" value="decline" />
      <button type="submit" class="button secondary">Decline</button>
    </form>`;
}

export function acceptedPage(opts: { title: string; signedIn: boolean }): Html {
  return html`<h1>You joined ${opts.title}</h1>
    <p class="lead">Your invitation was accepted.</p>
    <a class="button" href="${opts.signedIn ? '/' : '/signin'}"
      >${opts.signedIn ? 'Continue' : 'Sign in'}</a
    >`;
}

export function declinedPage(opts: { title: string }): Html {
  return html`<h1>Invitation declined</h1>
    <p class="lead">You declined the invitation to ${opts.title}. Nothing else changed.</p>
    <a class="button secondary" href="/signin">Go to sign-in</a>`;
}

export function messagePage(title: string, message: string): Html {
  return html`<h1>${title}</h1>
    <p class="alert" role="alert">${message}</p>
    <a class="button secondary" href="/signin">Go to sign-in</a>`;
}
