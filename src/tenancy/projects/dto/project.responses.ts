import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import { SERVER_ROLES, type ServerRole } from '#src/kernel/principal.js';
import type { PermissionSource } from '#src/tenancy/access/project-roles.js';
import { PROJECT_ROLES } from '#src/tenancy/access/project-roles.js';
import type {
  ProjectMemberResponse,
  ProjectResponse,
} from '#src/tenancy/projects/project.mapper.js';

export class ProjectResponseDto implements ProjectResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: "The workspace's domain" }) workspace!: string;
  @ApiProperty({ format: 'uuid' }) workspaceId!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
  @ApiProperty({ type: [String], description: "The caller's effective permissions here" })
  permissions!: string[];
}

export class ProjectPage extends PageOf(ProjectResponseDto) {}

export class ProjectMemberDto implements ProjectMemberResponse {
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ description: 'A user id (UUID) or a group id' }) memberId!: string;
  @ApiProperty({ enum: ['user', 'group'] }) memberType!: 'user' | 'group';
  @ApiProperty({ enum: PROJECT_ROLES }) projectRole!: string;
  @ApiPropertyOptional({ enum: SERVER_ROLES, description: 'Users only' }) serverRole?: string;
  @ApiPropertyOptional({ format: 'email', description: 'Users only' }) email?: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Users only' })
  fullName?: string | null;
  @ApiPropertyOptional({ description: "Groups only: the group's name" }) name?: string;
  @ApiProperty({
    type: [String],
    description: "What this membership confers, capped by the member's server role",
  })
  permissions!: string[];
}

export class ProjectMemberPage extends PageOf(ProjectMemberDto) {}

export class PermissionSourceDto {
  @ApiProperty({ enum: ['direct', 'group', 'workspace', 'server'] })
  kind!: PermissionSource['kind'];
  @ApiProperty({ enum: PROJECT_ROLES }) role!: string;
  @ApiPropertyOptional({ description: 'kind group' }) groupId?: string;
  @ApiPropertyOptional({ description: 'kind group' }) groupName?: string;
}

export class CappedByDto {
  @ApiProperty({ enum: ['server-role'] }) kind!: 'server-role';
  @ApiProperty({ enum: SERVER_ROLES }) role!: ServerRole;
}

export class PermissionExplanationDto {
  @ApiProperty() permission!: string;
  @ApiProperty() granted!: boolean;
  @ApiProperty({ type: [PermissionSourceDto] }) sources!: PermissionSourceDto[];
  @ApiProperty({
    type: CappedByDto,
    nullable: true,
    description: 'Set when a source grants it but the server role withholds it',
  })
  cappedBy!: CappedByDto | null;
}

// Sources are one flat class (a union in the service), so these two do not `implements` the
// service's types; the controller's declared return type checks that every answer fits them.
export class ProjectPermissionsDto {
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ enum: SERVER_ROLES, nullable: true }) serverRole!: ServerRole | null;
  @ApiProperty({ type: [String] }) permissions!: string[];
  @ApiPropertyOptional({ type: [PermissionSourceDto] }) sources?: PermissionSourceDto[];
  @ApiPropertyOptional({ type: [PermissionExplanationDto], description: 'With `explain=true`' })
  explain?: PermissionExplanationDto[];
  @ApiPropertyOptional({
    enum: [true],
    description: 'Present when the caller asked about themselves with a narrowed credential',
  })
  narrowedByCredential?: true;
}
