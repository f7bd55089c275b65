import { ApiProperty } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import { StringField } from '#src/common/validation.js';

export class CreateScimTokenDto {
  @StringField({ max: 100, description: 'A name to tell tokens apart (e.g. "Entra ID")' })
  name!: string;
}

export interface ScimTokenResponse {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export class ScimTokenResponseDto implements ScimTokenResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The start of the token, to recognise it', example: 'gths_abc123' })
  prefix!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt!: string | null;
}

export class CreatedScimTokenResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    description: 'The bearer token for /scim/v2, shown this once (only its hash is stored)',
  })
  token!: string;
}

export class ScimTokenPage extends PageOf(ScimTokenResponseDto) {}
