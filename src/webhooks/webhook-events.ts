import { AppException } from '#src/common/errors/app.exception.js';

/**
 * Every audit action an endpoint may subscribe to. A unit test (`webhook-events.test.ts`) reads the
 * sources for `action: '…'` and fails on an action missing here, so a module that records a new
 * action adds it to this list in the same change.
 */
export const KNOWN_EVENT_TYPES: readonly string[] = [
  'access_token.exchange',
  'access_token.revoke',
  'access_token.use_refused',
  'api_key.create',
  'api_key.revoke',
  'api_key.revoke_all',
  'api_key.use_refused',
  'audit.redact',
  'client.create',
  'client.delete',
  'client.secret_rotate',
  'client.update',
  'external_credential.create',
  'external_credential.delete',
  'external_credential.update',
  'grant.create',
  'grant.refresh_reuse',
  'grant.revoke',
  'grant.revoke_all',
  'grant.use_refused',
  'group.create',
  'group.delete',
  'group.member_add',
  'group.member_remove',
  'group.update',
  'identity.link',
  'identity.unlink',
  'invitation.create',
  'invitation.decline',
  'invitation.revoke',
  'mfa.factor.add',
  'mfa.factor.remove',
  'mfa.recovery_code.use',
  'mfa.recovery_codes.replace',
  'mfa.totp.start',
  'project.create',
  'project.delete',
  'project.member_add',
  'project.member_remove',
  'project.member_role',
  'project.update',
  'role.create',
  'role.delete',
  'role.update',
  'scim_token.create',
  'scim_token.revoke',
  'session.create',
  'session.reauthenticate',
  'session.revoke',
  'session.revoke_all',
  'signing_key.rotate',
  'token_exchange.refused',
  'user.activate',
  'user.activation_request',
  'user.claim',
  'user.create',
  'user.delete',
  'user.impersonate',
  'user.lock',
  'user.password_change',
  'user.password_reset',
  'user.password_reset_request',
  'user.update',
  'webhook.create',
  'webhook.delete',
  'webhook.delivery_retry',
  'webhook.secret_rotate',
  'webhook.update',
  'workspace.create',
  'workspace.delete',
  'workspace.member_add',
  'workspace.member_remove',
  'workspace.member_role',
  'workspace.member_suspend',
  'workspace.member_unsuspend',
  'workspace.update',
];

const KNOWN = new Set(KNOWN_EVENT_TYPES);
const FILTER = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;

/**
 * An endpoint's event filters: `*` (everything), an action (`user.update`), or a prefix ending in
 * `.*` (`user.*`) that matches at least one known action. Duplicates are dropped; order kept.
 */
export function validateEventFilters(events: readonly string[]): string[] {
  if (events.length === 0) throw AppException.invalid('events', 'must name at least one event');
  const out: string[] = [];
  for (const [i, raw] of events.entries()) {
    const e = raw.trim();
    const field = `events[${i}]`;
    if (!FILTER.test(e)) {
      throw AppException.invalid(field, 'must be an audit action, a prefix such as user.*, or *');
    }
    if (e !== '*' && e.endsWith('.*')) {
      const prefix = e.slice(0, -1);
      if (!KNOWN_EVENT_TYPES.some((t) => t.startsWith(prefix)))
        throw AppException.invalid(field, `no known event starts with ${prefix}`);
    } else if (e !== '*' && !KNOWN.has(e)) {
      throw AppException.invalid(field, `is not a known event type: ${e}`);
    }
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

/** Whether an event of type `action` passes any of the filters. */
export function matchesFilters(filters: readonly string[], action: string): boolean {
  return filters.some(
    (f) => f === '*' || f === action || (f.endsWith('.*') && action.startsWith(f.slice(0, -1))),
  );
}
