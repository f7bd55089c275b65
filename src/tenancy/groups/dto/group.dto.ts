import { PageQuery } from '#src/common/http/pagination.js';
import {
  IdField,
  NestedField,
  ObjectField,
  QueryBooleanField,
  StringArrayField,
  StringField,
} from '#src/common/validation.js';
import type { JsonObject } from '#src/database/columns.js';
import { GroupIdField } from '#src/tenancy/groups/group-id.js';

const ID = /^[0-9a-zA-Z-]{1,36}$/;

export class MemberRefDto {
  @IdField({ description: 'User id' })
  id!: string;
}

export class CreateGroupDto {
  @GroupIdField({
    optional: true,
    description:
      "The group's id, chosen by the caller (the seeds' identifier): 1 to 64 of A-Z a-z 0-9 . _ -, unique (409); else a generated UUID",
  })
  id?: string;

  @StringField({ max: 200 })
  name!: string;

  @StringField({ max: 64, description: "The workspace's domain" })
  workspace!: string;

  @NestedField(() => MemberRefDto, { array: true, optional: true, maxItems: 500 })
  members?: MemberRefDto[];

  @IdField({ optional: true, description: 'Scope the group to this project (names unique there)' })
  projectId?: string;

  @ObjectField({ optional: true, description: 'Free JSON kept with the group' })
  settings?: JsonObject;
}

export class UpdateGroupDto {
  @StringField({ max: 200, optional: true })
  name?: string;

  @NestedField(() => MemberRefDto, {
    array: true,
    optional: true,
    maxItems: 500,
    description: 'Replaces the member list',
  })
  members?: MemberRefDto[];

  @StringArrayField({
    optional: true,
    maxItems: 500,
    itemMax: 36,
    itemPattern: ID,
    description: 'Project ids the group is a member of (new ones as reader)',
  })
  projects?: string[];

  @ObjectField({
    optional: true,
    nullable: true,
    description: 'Replaces the settings JSON; null clears it (to {})',
  })
  settings?: JsonObject | null;
}

export class AddGroupMemberDto {
  @IdField()
  userId!: string;
}

export class ListGroupsQuery extends PageQuery {
  @StringField({ max: 64, optional: true, description: "A workspace's domain" })
  workspace?: string;

  @IdField({ optional: true })
  projectId?: string;
}

export class GetGroupQuery {
  @QueryBooleanField({ optional: true })
  includeProjects?: boolean;
}
