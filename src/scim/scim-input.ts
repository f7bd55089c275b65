import { ScimException } from '#src/common/errors/scim-error.js';
import { ENTERPRISE_SCHEMA } from '#src/scim/scim-schemas.js';

/** A value of `obj` by attribute name, case-insensitively (SCIM attribute names ignore case). */
export function attr(obj: unknown, name: string): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : (obj as Record<string, unknown>)[key];
}

function text(v: unknown, name: string, max: number): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw ScimException.invalidValue(`${name} must be a string.`);
  const t = v.trim();
  if (t.length > max) throw ScimException.invalidValue(`${name} is longer than ${max} characters.`);
  return t === '' ? null : t;
}

/** Entra ID sends booleans as the strings "True" and "False". */
export function bool(v: unknown, name: string): boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw ScimException.invalidValue(`${name} must be a boolean.`);
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** What a User resource says, as this server keeps it. */
export interface UserInput {
  userName: string;
  /** The primary `emails` value, when given (Entra ID changes it through `emails[type eq "work"].value`). */
  email: string | null;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  formattedName: string | null;
  displayName: string | null;
  title: string | null;
  active: boolean;
  employeeNumber: string | null;
  department: string | null;
  organization: string | null;
  managerId: string | null;
}

/**
 * Reads a full User representation (POST, PUT, or a resource after PATCH). Attributes this server
 * does not keep (addresses, phone numbers, locale…) are accepted and ignored, as identity providers
 * send their whole mapping; a password is refused (SCIM never sets one).
 */
export function readUser(body: unknown): UserInput {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ScimException(400, 'The body must be a JSON object.', 'invalidSyntax');
  if (attr(body, 'password') !== undefined)
    throw ScimException.mutability('Passwords are never set through SCIM.');
  const emails = attr(body, 'emails');
  if (emails !== undefined && emails !== null && !Array.isArray(emails))
    throw ScimException.invalidValue('emails must be an array.');
  const list = (emails as unknown[] | undefined) ?? [];
  const primary = list.find((e) => bool(attr(e, 'primary'), 'emails.primary') === true) ?? list[0];
  const email = text(attr(primary, 'value'), 'emails.value', 254);
  const userName = text(attr(body, 'userName'), 'userName', 254) ?? email;
  if (!userName) throw ScimException.invalidValue('userName (the email address) is required.');
  if (!EMAIL.test(userName)) throw ScimException.invalidValue('userName must be an email address.');
  const name = attr(body, 'name');
  if (name !== undefined && name !== null && (typeof name !== 'object' || Array.isArray(name)))
    throw ScimException.invalidValue('name must be an object.');
  const ent = attr(body, ENTERPRISE_SCHEMA);
  if (ent !== undefined && ent !== null && (typeof ent !== 'object' || Array.isArray(ent)))
    throw ScimException.invalidValue(`${ENTERPRISE_SCHEMA} must be an object.`);
  const manager = attr(ent, 'manager');
  const managerValue =
    typeof manager === 'string' ? manager : manager === null ? null : attr(manager, 'value');
  if (email !== null && !EMAIL.test(email))
    throw ScimException.invalidValue('emails.value must be an email address.');
  return {
    userName,
    email,
    externalId: text(attr(body, 'externalId'), 'externalId', 255),
    givenName: text(attr(name, 'givenName'), 'name.givenName', 200),
    familyName: text(attr(name, 'familyName'), 'name.familyName', 200),
    formattedName: text(attr(name, 'formatted'), 'name.formatted', 200),
    displayName: text(attr(body, 'displayName'), 'displayName', 200),
    title: text(attr(body, 'title'), 'title', 200),
    active: bool(attr(body, 'active'), 'active') ?? true,
    employeeNumber: text(attr(ent, 'employeeNumber'), 'employeeNumber', 64),
    department: text(attr(ent, 'department'), 'department', 200),
    organization: text(attr(ent, 'organization'), 'organization', 200),
    managerId: text(managerValue, 'manager.value', 255),
  };
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  memberIds: string[];
}

export function readGroup(body: unknown): GroupInput {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ScimException(400, 'The body must be a JSON object.', 'invalidSyntax');
  const displayName = text(attr(body, 'displayName'), 'displayName', 200);
  if (!displayName) throw ScimException.invalidValue('displayName is required.');
  const members = attr(body, 'members') ?? [];
  if (!Array.isArray(members)) throw ScimException.invalidValue('members must be an array.');
  if (members.length > 10_000) throw ScimException.invalidValue('Too many members at once.');
  const memberIds = members.map((m) => {
    const v = attr(m, 'value');
    if (typeof v !== 'string' || v === '')
      throw ScimException.invalidValue('Each member needs a value (a User id).');
    return v;
  });
  return {
    displayName,
    externalId: text(attr(body, 'externalId'), 'externalId', 255),
    memberIds: [...new Set(memberIds)],
  };
}
