import { PageQuery } from '#src/common/http/pagination.js';
import { EnumField, IdField, QueryBooleanField, StringField } from '#src/common/validation.js';
import { PROJECT_ROLES, type ProjectRole } from '#src/tenancy/access/project-roles.js';
import { GroupIdField } from '#src/tenancy/groups/group-id.js';

export class CreateProjectDto {
  @StringField({ max: 200 })
  name!: string;

  @StringField({ max: 64, description: "The workspace's domain" })
  workspace!: string;
}

export class UpdateProjectDto {
  @StringField({ max: 200 })
  name!: string;
}

export class ListProjectsQuery extends PageQuery {
  @StringField({ max: 64, optional: true, description: "A workspace's domain" })
  workspace?: string;
}

export class AddProjectMemberDto {
  @EnumField(PROJECT_ROLES)
  role!: ProjectRole;

  @IdField({ optional: true, description: 'Exactly one of userId and groupId' })
  userId?: string;

  @GroupIdField({ optional: true, description: 'Exactly one of userId and groupId' })
  groupId?: string;
}

export class UpdateProjectMemberDto {
  @EnumField(PROJECT_ROLES)
  role!: ProjectRole;
}

export class PermissionsQuery {
  @IdField({ optional: true, description: 'Whose permissions (default: the caller)' })
  userId?: string;

  @QueryBooleanField({ optional: true, description: 'Say where each permission comes from' })
  explain?: boolean;
}
