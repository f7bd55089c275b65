import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import type { ApiKeyResponse } from '#src/credentials/api-keys/api-keys.service.js';
import type {
  LinkedIdentityResponse,
  StoredCredentialResponse,
} from '#src/credentials/authentications/authentications.service.js';
import {
  GRANT_TYPES,
  type GrantType,
  type ProjectPermissionGrant,
} from '#src/credentials/entities/grant.entity.js';
import type { GrantResponse } from '#src/credentials/grants/grants.service.js';
import type { TokenResponse } from '#src/credentials/oauth/oauth.service.js';
import type { ExchangedToken } from '#src/credentials/token-exchange/token-exchange.service.js';

export class ApiKeyResponseDto implements ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The start of the key, to recognise it', example: 'gth_abc123' })
  prefix!: string;
  @ApiProperty({ type: [String], nullable: true, description: 'Null: all of the owner’s rights' })
  scopes!: string[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt!: string | null;
}

export class CreatedApiKeyResponse extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The secret key, shown this once (only its hash is stored)' })
  key!: string;
}

export class ApiKeyPage extends PageOf(ApiKeyResponseDto) {}

export class ProjectPermissionGrantDto implements ProjectPermissionGrant {
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ type: [String] }) permissions!: string[];
}

export class GrantResponseDto implements GrantResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: GRANT_TYPES }) type!: GrantType;
  @ApiProperty({ type: String, nullable: true }) forClientId!: string | null;
  @ApiProperty({
    type: [ProjectPermissionGrantDto],
    nullable: true,
    description: 'Null: not limited to some project permissions',
  })
  projectPermissions!: ProjectPermissionGrantDto[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt!: string | null;
}

export class CreatedGrantResponse extends GrantResponseDto {
  @ApiProperty({ description: 'The refresh token, shown this once' }) refreshToken!: string;
}

export class GrantPage extends PageOf(GrantResponseDto) {}

export class LinkedIdentityDto implements LinkedIdentityResponse {
  @ApiProperty({ enum: ['oidc'] }) kind!: 'oidc';
  @ApiProperty({ description: "The provider's id" }) service!: string;
  @ApiProperty({ type: String, nullable: true }) providerName!: string | null;
  @ApiProperty() issuer!: string;
  @ApiProperty() subject!: string;
  @ApiProperty({ type: String, nullable: true }) email!: string | null;
  @ApiProperty({ format: 'date-time' }) linkedAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt!: string | null;
}

export class StoredCredentialDto implements StoredCredentialResponse {
  @ApiProperty({ enum: ['credential'] }) kind!: 'credential';
  @ApiProperty() service!: string;
  @ApiProperty() serviceUser!: string;
  @ApiProperty({ type: String, nullable: true }) displayName!: string | null;
  @ApiProperty({ description: "In clear only on the owner's own read of one service" })
  accessToken!: string;
  @ApiProperty({ type: String, nullable: true }) accessSecret!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  accessTokenExpires!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  accessSecretExpires!: string | null;
  @ApiProperty() secretsMasked!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export type AuthenticationDto = LinkedIdentityDto | StoredCredentialDto;

/** A linked identity or a stored credential, told apart by `kind`. */
export const AUTHENTICATION_SCHEMA = {
  oneOf: [
    { $ref: '#/components/schemas/LinkedIdentityDto' },
    { $ref: '#/components/schemas/StoredCredentialDto' },
  ],
  discriminator: {
    propertyName: 'kind',
    mapping: {
      oidc: '#/components/schemas/LinkedIdentityDto',
      credential: '#/components/schemas/StoredCredentialDto',
    },
  },
};

export class AuthenticationPage {
  @ApiProperty({ type: 'array', items: AUTHENTICATION_SCHEMA })
  items!: AuthenticationDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class TokenResponseDto implements TokenResponse {
  @ApiProperty({ description: 'A signed access token (JWT)' }) access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ type: 'integer', description: 'Seconds' }) expires_in!: number;
  @ApiProperty({ description: 'The rotated refresh token; the one sent is spent' })
  refresh_token!: string;
}

export class OAuthTokenRequest {
  @ApiProperty({ enum: ['refresh_token'] }) grant_type!: string;
  @ApiProperty() refresh_token!: string;
  @ApiPropertyOptional() client_id?: string;
}

export class ExchangedTokenDto implements ExchangedToken {
  @ApiProperty() access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ type: 'integer' }) expires_in!: number;
  @ApiProperty({ enum: ['urn:ietf:params:oauth:token-type:access_token'] })
  issued_token_type!: 'urn:ietf:params:oauth:token-type:access_token';
}

export class JwksResponse {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'JSON Web Keys (RFC 7517)',
  })
  keys!: object[];
}

export class AuthorizationServerMetadata {
  [key: string]: unknown;
  @ApiProperty({ format: 'uri' }) issuer!: string;
  @ApiProperty({ format: 'uri' }) token_endpoint!: string;
  @ApiProperty({ format: 'uri' }) jwks_uri!: string;
  @ApiProperty({ type: [String] }) grant_types_supported!: string[];
  @ApiProperty({ type: [String] }) response_types_supported!: string[];
  @ApiProperty({ type: [String] }) token_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ format: 'uri' }) service_documentation!: string;
}
