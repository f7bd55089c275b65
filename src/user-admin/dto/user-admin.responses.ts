import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { UserProject } from '#src/tenancy/access/access.service.js';
import { UserDetailResponseDto } from '#src/users/dto/user.responses.js';

export class UserProjectDto implements UserProject {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uuid' }) workspaceId!: string;
  @ApiProperty({ type: [String] }) permissions!: string[];
}

export class UserWithProjectsDto extends UserDetailResponseDto {
  @ApiPropertyOptional({
    type: [UserProjectDto],
    description: 'With `includeProjects=true`: the projects of the user the caller may see',
  })
  projects?: UserProjectDto[];
}
