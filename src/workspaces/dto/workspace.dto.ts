import { Transform } from 'class-transformer';
import { PageQuery } from '../../common/http/pagination.js';
import { BooleanField, EnumField, StringArrayField, StringField } from '../../common/validation.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from '../workspace.entity.js';
import { ArrayMinSize, IsEmail } from 'class-validator';

/** Query booleans arrive as strings. */
export const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class CreateWorkspaceDto {
  @StringField({ max: 200, description: 'Title; the domain is a unique slug of it' })
  title!: string;
}

export class UpdateWorkspaceDto {
  @StringField({ max: 200 })
  title!: string;
}

export class ListWorkspacesQuery extends PageQuery {
  @Transform(toBool)
  @BooleanField({ optional: true, description: 'Include the projects the caller can see' })
  includeProjects?: boolean;

  @Transform(toBool)
  @BooleanField({ optional: true, description: 'Only workspaces the caller administers' })
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
