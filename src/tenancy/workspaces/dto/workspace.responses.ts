import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';
import type {
  ProjectSummary,
  WorkspaceResponse,
} from '#src/tenancy/workspaces/workspace.mapper.js';
import type { WorkspaceUserRow } from '#src/tenancy/workspaces/workspaces.repository.js';
import {
  ADD_STATUSES,
  type AddedWorkspaceUser,
  type AddStatus,
} from '#src/tenancy/workspaces/workspaces.service.js';

export class ProjectSummaryDto implements ProjectSummary {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
}

export class WorkspaceResponseDto implements WorkspaceResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Unique slug of the title', example: 'project-5' }) domain!: string;
  @ApiProperty() title!: string;
  @ApiProperty({
    enum: WORKSPACE_ROLES,
    nullable: true,
    description: "The caller's workspace role; null for a server admin who is not a member",
  })
  role!: WorkspaceRole | null;
  @ApiProperty({
    description: 'Members without a second factor must enrol one at their next sign-in',
  })
  mfaRequired!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
  @ApiPropertyOptional({ type: [ProjectSummaryDto], description: 'With `includeProjects=true`' })
  projects?: ProjectSummaryDto[];
}

export class WorkspacePage extends PageOf(WorkspaceResponseDto) {}

export class WorkspaceUserDto implements WorkspaceUserRow {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({ type: String, nullable: true }) fullName!: string | null;
  @ApiProperty({ enum: ['pending', 'active', 'disabled'] }) status!: string;
  @ApiProperty({ enum: ['admin', 'user', 'demo', 'reader'] }) serverRole!: string;
  @ApiProperty({ enum: WORKSPACE_ROLES, description: 'Workspace role' }) role!: WorkspaceRole;
}

export class WorkspaceUserPage extends PageOf(WorkspaceUserDto) {}

export class AddedWorkspaceUserDto implements AddedWorkspaceUser {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ description: "The workspace's domain" }) workspace!: string;
  @ApiProperty({
    enum: WORKSPACE_ROLES,
    description: 'The role held (added, member) or offered (invited)',
  })
  role!: WorkspaceRole;
  @ApiProperty({
    enum: ADD_STATUSES,
    description:
      '`added`: a member now; `invited`: an existing person was sent an invitation and joins only by accepting it (a workspace admin who is not a server admin cannot add people without their consent); `member`: already a member, role unchanged',
  })
  status!: AddStatus;
  @ApiProperty({
    description:
      'A mail went out: an unknown email became a pending user with an activation link, or an existing person got an invitation',
  })
  invited!: boolean;
  @ApiProperty({ description: 'Whether this request made the membership' }) added!: boolean;
  @ApiPropertyOptional({ format: 'uuid', description: 'With `status: invited`' })
  invitationId?: string;
}
