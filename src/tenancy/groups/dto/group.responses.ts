import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import { PROJECT_ROLES } from '#src/tenancy/access/project-roles.js';
import type { GroupMemberResponse, GroupResponse } from '#src/tenancy/groups/group.mapper.js';

export class GroupMemberDto implements GroupMemberResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({ type: String, nullable: true }) fullName!: string | null;
  @ApiProperty({ description: 'Server role' }) role!: string;
  @ApiProperty({ enum: ['pending', 'active', 'disabled'] }) status!: string;
}

export class GroupProjectDto {
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: PROJECT_ROLES, description: "The group's role in the project" })
  role!: string;
}

export class GroupResponseDto implements GroupResponse {
  @ApiProperty({ description: 'A UUID, or the id its creator chose' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: "The workspace's domain" }) workspace!: string;
  @ApiProperty({ format: 'uuid' }) workspaceId!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) projectId!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'The creator; a member too unless they left (see docs/permissions.md)',
  })
  ownerId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Free JSON' })
  settings!: Record<string, unknown>;
  @ApiProperty({ type: [GroupMemberDto] }) members!: GroupMemberDto[];
  @ApiPropertyOptional({ type: [GroupProjectDto], description: 'With `includeProjects=true`' })
  projects?: GroupProjectDto[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
}

export class GroupPage extends PageOf(GroupResponseDto) {}
