import { PageQuery } from '#src/common/http/pagination.js';
import { IntField, StringArrayField, StringField } from '#src/common/validation.js';
import { ROLE_NAME } from '#src/users/dto/users.dto.js';

const PERMISSION = /^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?)$/;

export class ListRolesQuery extends PageQuery {}

export class CreateRoleDto {
  @StringField({
    max: 64,
    pattern: ROLE_NAME,
    patternMessage: 'must be lower-case letters, digits, ".", "_" or "-"',
  })
  name!: string;
  @StringField({ optional: true, nullable: true, max: 500 }) description?: string | null;
  @StringArrayField({ maxItems: 200, itemMax: 200, itemPattern: PERMISSION })
  permissions!: string[];
}

export class UpdateRoleDto {
  @StringField({
    optional: true,
    max: 64,
    pattern: ROLE_NAME,
    patternMessage: 'must be lower-case letters, digits, ".", "_" or "-"',
  })
  name?: string;
  @StringField({ optional: true, nullable: true, max: 500 }) description?: string | null;
  @StringArrayField({ optional: true, maxItems: 200, itemMax: 200, itemPattern: PERMISSION })
  permissions?: string[];
  @IntField({
    optional: true,
    min: 1,
    description: 'The version you read: a stale one is refused with 409',
  })
  version?: number;
}
