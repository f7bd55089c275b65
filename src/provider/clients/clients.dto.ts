import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  BooleanField,
  EnumField,
  ObjectField,
  StringArrayField,
  StringField,
} from '#src/common/validation.js';
import {
  CLIENT_GRANT_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClientGrantType,
  type TokenEndpointAuthMethod,
} from '#src/provider/entities/oauth-client.entity.js';

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

export class CreateClientDto {
  @StringField({ max: 200, description: 'Shown on the consent page' })
  name!: string;

  @StringArrayField({ optional: true, maxItems: 20, itemMax: 512 })
  redirectUris?: string[];

  @StringArrayField({ optional: true, maxItems: 20, itemMax: 512 })
  postLogoutRedirectUris?: string[];

  @StringArrayField({
    maxItems: 4,
    itemPattern:
      /^(authorization_code|refresh_token|client_credentials|urn:ietf:params:oauth:grant-type:token-exchange)$/,
    description: `Any of ${CLIENT_GRANT_TYPES.join(', ')}`,
  })
  grantTypes!: ClientGrantType[];

  @EnumField(TOKEN_ENDPOINT_AUTH_METHODS)
  tokenEndpointAuthMethod!: TokenEndpointAuthMethod;

  @StringArrayField({ optional: true, maxItems: 50, itemPattern: SCOPE })
  scopes?: string[];

  @BooleanField({ optional: true, description: 'First-party clients skip the consent page' })
  firstParty?: boolean;

  @StringArrayField({ optional: true, maxItems: 20, itemMax: 512 })
  allowedOrigins?: string[];

  @ObjectField({ optional: true, description: 'A JWK Set (private_key_jwt)' })
  jwks?: Record<string, unknown>;

  @StringField({ optional: true, max: 512, description: 'Where the JWK Set is (private_key_jwt)' })
  jwksUri?: string;
}

export class UpdateClientDto {
  @StringField({ optional: true, max: 200 })
  name?: string;

  @StringArrayField({ optional: true, maxItems: 20, itemMax: 512 })
  redirectUris?: string[];

  @StringArrayField({ optional: true, maxItems: 20, itemMax: 512 })
  postLogoutRedirectUris?: string[];

  @StringArrayField({ optional: true, maxItems: 50, itemPattern: SCOPE })
  scopes?: string[];

  @BooleanField({ optional: true })
  firstParty?: boolean;

  @StringArrayField({ optional: true, maxItems: 20, itemMax: 512 })
  allowedOrigins?: string[];
}

export class ClientResponse {
  @ApiProperty() clientId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) redirectUris!: string[];
  @ApiProperty({ type: [String] }) postLogoutRedirectUris!: string[];
  @ApiProperty({ type: [String], enum: CLIENT_GRANT_TYPES }) grantTypes!: string[];
  @ApiProperty({ enum: TOKEN_ENDPOINT_AUTH_METHODS }) tokenEndpointAuthMethod!: string;
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty() firstParty!: boolean;
  @ApiProperty({ type: [String] }) allowedOrigins!: string[];
  @ApiPropertyOptional({ type: String, nullable: true }) jwksUri!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) serviceUserId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedClientResponse extends ClientResponse {
  @ApiPropertyOptional({ description: 'Shown once; stored hashed' }) clientSecret?: string;
}

export class ClientSecretResponse {
  @ApiProperty() clientId!: string;
  @ApiProperty({ description: 'Shown once; the previous secret stops working' })
  clientSecret!: string;
}

export class ClientList {
  @ApiProperty({ type: [ClientResponse] }) items!: ClientResponse[];
}
