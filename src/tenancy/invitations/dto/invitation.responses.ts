import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import { UserResponseDto } from '#src/users/dto/user.responses.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';
import type { InvitationStatus } from '#src/tenancy/entities/invitation.entity.js';
import type {
  AcceptResult,
  InvitationResult,
  InvitationView,
} from '#src/tenancy/invitations/invitations.service.js';

export class InvitationResultDto implements InvitationResult {
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({
    enum: [201, 409],
    description: '201: invited (mailed); 409: already a member of the workspace',
  })
  status!: 201 | 409;
  @ApiPropertyOptional({ format: 'uuid', description: 'The invitation, when one was made' })
  id?: string;
}

export class InvitationResultsDto {
  @ApiProperty({ type: [InvitationResultDto] }) items!: InvitationResultDto[];
}

export class InvitationDto implements InvitationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({ enum: WORKSPACE_ROLES }) role!: WorkspaceRole;
  @ApiProperty({ enum: ['pending', 'accepted', 'declined', 'revoked'] }) status!: InvitationStatus;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) invitedBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class InvitationPage extends PageOf(InvitationDto) {}

export class AcceptedInvitationDto implements AcceptResult {
  @ApiProperty({ description: "The workspace's domain" }) workspace!: string;
  @ApiProperty({ enum: WORKSPACE_ROLES }) role!: WorkspaceRole;
  @ApiProperty({ type: UserResponseDto }) user!: UserResponseDto;
}
