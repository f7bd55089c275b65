import { createGatehouseClient, type Schema } from '../../../clients/typescript/index.ts';

/** The typed client of /api/v1 with the session cookie (same origin). */
export const api = createGatehouseClient();

export type Problem = Schema<'ProblemDetails'>;

/** A problem+json answer (RFC 9457), with the field errors it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title);
  }

  /** The message for one field (`errors[].field`), if the problem names it. */
  /** Whether the problem's `type` ends with this name (…/problems/<name>). */
  is(name: string): boolean {
    return this.problem.type.endsWith(`/${name}`);
  }

  field(name: string): string | undefined {
    const hit = this.problem.errors?.find(
      (e) => e.field === name || e.field.startsWith(`${name}.`) || e.field.startsWith(`${name}[`),
    );
    return hit?.message;
  }
}

function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && 'status' in v && 'title' in v;
}

function toApiError(error: unknown, response: Response): ApiError {
  if (isProblem(error)) return new ApiError(response.status, error);
  return new ApiError(response.status, {
    type: 'about:blank',
    title: response.statusText || 'Request failed',
    status: response.status,
    detail: `The server answered ${response.status}.`,
  });
}

/** Sends the browser to the sign-in page, coming back here afterwards. */
export function toSignIn(): void {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/signin?returnTo=${encodeURIComponent(here)}`);
}

/** A sensitive change asks for a recent sign-in (REAUTH_MINUTES): the session is still good. */
export const REAUTHENTICATION_REQUIRED = 'reauthentication-required';
/** The session may only enrol a second factor (MFA_REQUIRED, a workspace's mfaRequired). */
export const MFA_ENROLMENT_REQUIRED = 'mfa-enrolment-required';

/**
 * The body of a successful answer; a problem becomes an ApiError (401: back to sign-in, except a
 * 401 asking to prove the password again, which the reauthentication dialog handles, and the
 * wrong password in that dialog: `stayOn401`).
 */
export async function call<D>(
  pending: Promise<{ data?: D; error?: unknown; response: Response }>,
  options: { stayOn401?: boolean } = {},
): Promise<D> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    const problem = toApiError(error, response);
    if (response.status === 401 && !options.stayOn401 && !problem.is(REAUTHENTICATION_REQUIRED))
      toSignIn();
    throw problem;
  }
  return data as D;
}

/** A page of a keyset-paged list. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Server permissions, with `*` wildcards as the server reads them. */
export function permits(granted: readonly string[], required: string): boolean {
  return granted.some((g) => {
    if (g === '*' || g === required) return true;
    if (g.endsWith('.*')) return required.startsWith(g.slice(0, -1)) || required === g.slice(0, -2);
    return false;
  });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
