import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import { SERVER_ROLES, type UserStatus } from '#src/kernel/principal.js';
import type { AuditEntryView } from '#src/audit/audit.service.js';
import type { PermissionType } from '#src/users/permission-catalogue.js';
import type { RoleResponse } from '#src/users/roles.service.js';
import type { UserDetailResponse, UserResponse } from '#src/users/user.mapper.js';

const USER_STATUSES: readonly UserStatus[] = ['pending', 'active', 'disabled'];

export class UserResponseDto implements UserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    type: String,
    format: 'email',
    nullable: true,
    description: 'Null for a service account (an OAuth client’s), which has no address',
  })
  email!: string | null;
  @ApiProperty({ type: String, nullable: true }) username!: string | null;
  @ApiProperty({ type: String, nullable: true }) fullName!: string | null;
  @ApiProperty({ enum: SERVER_ROLES, description: 'Server role' }) role!: string;
  @ApiProperty({ type: [String], description: 'Named roles' }) roles!: string[];
  @ApiProperty({ enum: USER_STATUSES }) status!: string;
  @ApiProperty() emailVerified!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: 'integer', description: 'Row version (optimistic concurrency)' })
  version!: number;
}

export class UserDetailResponseDto extends UserResponseDto implements UserDetailResponse {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Custom key/values, merged by PATCH',
  })
  data!: Record<string, unknown>;
}

/** A row of GET /users: with `data` when `include=config` was asked. */
export class UserListItemDto extends UserResponseDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Custom key/values (with `include=config`)',
  })
  data?: Record<string, unknown>;
}

export class UserPage extends PageOf(UserListItemDto) {}

export class AuditEntryDto implements AuditEntryView {
  @ApiProperty({ description: 'Position in the audit chain' }) seq!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) actorId!: string | null;
  @ApiProperty({ example: 'user.update' }) action!: string;
  @ApiProperty({ example: 'user' }) targetType!: string;
  @ApiProperty() targetId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) changes!: Record<string, unknown>;
  @ApiProperty({ description: 'Whether values were withheld from this caller' }) redacted!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The id of the request that made the change (X-Request-Id), when there was one',
  })
  requestId!: string | null;
}

export class AuditEntryPage extends PageOf(AuditEntryDto) {}

export class RoleResponseDto implements RoleResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: [String] }) permissions!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
}

export class RolePage extends PageOf(RoleResponseDto) {}

export class PermissionTypeDto implements PermissionType {
  @ApiProperty({ example: 'users.manage' }) name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: ['server', 'project'] }) scope!: 'server' | 'project';
}

export class PermissionTypePage extends PageOf(PermissionTypeDto) {}
