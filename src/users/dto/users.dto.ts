import { PageQuery } from '#src/common/http/pagination.js';
import {
  BooleanField,
  EmailField,
  EnumField,
  IntField,
  ObjectField,
  PasswordField,
  QueryBooleanField,
  StringArrayField,
  StringField,
} from '#src/common/validation.js';
import { SERVER_ROLES, type ServerRole } from '#src/kernel/principal.js';

export const ROLE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Statuses an admin may set with PATCH (pending users are activated with POST /users/:id/activate). */
export const SETTABLE_STATUSES = ['active', 'disabled'] as const;

/** User names: never an email (no `@`), so a sign-in name is never ambiguous. */
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class ListUsersQuery extends PageQuery {
  @StringField({
    optional: true,
    max: 254,
    description: 'Prefix of the email, username or full name (case-insensitive)',
  })
  query?: string;

  @EnumField(['config'], { optional: true, description: "`config` adds each user's custom data" })
  include?: 'config';
}

export class GetUserQuery {
  @QueryBooleanField({
    optional: true,
    description: 'Include the projects of the user you may see',
  })
  includeProjects?: boolean;
}

export class DeleteUserQuery {
  @QueryBooleanField({ optional: true, description: 'Answer 204 for an unknown id instead of 404' })
  missingOk?: boolean;
}

export class CreateUserDto {
  @EmailField() email!: string;
  @PasswordField({
    optional: true,
    description: 'Without one the user cannot sign in with a password',
  })
  password?: string;
  @StringField({ optional: true, max: 200 }) fullName?: string;
  @EnumField(SERVER_ROLES, { optional: true, description: 'Server role (default user)' })
  role?: ServerRole;
  @StringArrayField({
    optional: true,
    maxItems: 50,
    itemMax: 64,
    itemPattern: ROLE_NAME,
    description: 'Named roles',
  })
  roles?: string[];
  @BooleanField({ optional: true, description: 'The email counts as verified only when true' })
  emailVerified?: boolean;
  @EnumField(['active', 'pending'], {
    optional: true,
    description: 'active (default), or pending: an activation link is mailed, as for registration',
  })
  status?: 'active' | 'pending';
  @StringField({
    optional: true,
    max: 64,
    pattern: USERNAME,
    patternMessage:
      'must be 1 to 64 of letters, digits, ".", "_" or "-", starting with a letter or digit (no "@")',
    description: 'A sign-in name that is not an email (unique, case-insensitive)',
  })
  username?: string;
}

export class UpdateUserDto {
  @StringField({ optional: true, nullable: true, max: 200 }) fullName?: string | null;
  @EnumField(SERVER_ROLES, { optional: true, description: 'Admin only' }) role?: ServerRole;
  @StringArrayField({
    optional: true,
    maxItems: 50,
    itemMax: 64,
    itemPattern: ROLE_NAME,
    description: 'Named roles, replacing the current ones (admin only)',
  })
  roles?: string[];
  @EnumField(SETTABLE_STATUSES, { optional: true, description: 'Admin only' })
  status?: (typeof SETTABLE_STATUSES)[number];
  @ObjectField({
    optional: true,
    description: 'Custom key/values merged into the stored ones; a null value deletes the key',
  })
  data?: Record<string, unknown>;
  @PasswordField({ optional: true, description: 'Admin only; the password policy applies' })
  password?: string;
  @IntField({
    optional: true,
    min: 1,
    description: 'The version you read: a stale one is refused with 409',
  })
  version?: number;
}
