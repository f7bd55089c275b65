import { PageQuery } from '#src/common/http/pagination.js';
import {
  BooleanField,
  EnumField,
  QueryBooleanField,
  StringArrayField,
  StringField,
} from '#src/common/validation.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';
import { ArrayMinSize, IsEmail } from 'class-validator';

export class CreateWorkspaceDto {
  @StringField({ max: 200, description: 'Title; the domain is a unique slug of it' })
  title!: string;
}

export class UpdateWorkspaceDto {
  @StringField({ optional: true, max: 200 })
  title?: string;

  @BooleanField({
    optional: true,
    description:
      'Members without a second factor get an enrolment-only session at their next sign-in',
  })
  mfaRequired?: boolean;
}

export class ListWorkspacesQuery extends PageQuery {
  @QueryBooleanField({ optional: true, description: 'Include the projects the caller can see' })
  includeProjects?: boolean;

  @QueryBooleanField({ optional: true, description: 'Only workspaces the caller administers' })
  adminOnly?: boolean;
}

export class AddWorkspaceUsersDto {
  @StringArrayField({
    maxItems: 100,
    itemMax: 254,
    description: 'Emails; unknown ones are invited',
  })
  @ArrayMinSize(1, { message: 'must not be empty' })
  @IsEmail({}, { each: true, message: 'each item must be a valid email address' })
  emails!: string[];

  @EnumField(WORKSPACE_ROLES)
  role!: WorkspaceRole;
}

export class SetWorkspaceRoleDto {
  @EnumField(WORKSPACE_ROLES)
  role!: WorkspaceRole;
}
