import {
  DateTimeField,
  EnumField,
  IdField,
  NestedField,
  StringArrayField,
  StringField,
} from '#src/common/validation.js';
import { GRANT_TYPES, type GrantType } from '#src/credentials/entities/grant.entity.js';

const PERMISSION = /^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?)$/;

export class CreateApiKeyDto {
  @StringField({ max: 100, description: 'A name to tell keys apart' })
  name!: string;

  @DateTimeField({ optional: true, description: 'When the key stops working (default: never)' })
  expiresAt?: string;

  @StringArrayField({
    optional: true,
    maxItems: 100,
    itemPattern: PERMISSION,
    description: "Permissions narrowing the owner's (default: the owner's permissions)",
  })
  scopes?: string[];
}

export class ProjectPermissionDto {
  @IdField()
  projectId!: string;

  @StringArrayField({ maxItems: 100, itemPattern: PERMISSION })
  permissions!: string[];
}

export class CreateGrantDto {
  @EnumField(GRANT_TYPES)
  type!: GrantType;

  @StringField({ optional: true, max: 100, description: 'Bind the grant to this OAuth client_id' })
  forClientId?: string;

  @NestedField(() => ProjectPermissionDto, {
    optional: true,
    array: true,
    maxItems: 100,
    description: "Narrow to these project permissions (never more than the owner's)",
  })
  projectPermissions?: ProjectPermissionDto[];
}

export class TokenExchangeDto {
  @StringField({ max: 16384, description: 'An ID token or JWT issued by the provider' })
  subjectToken!: string;

  @StringField({ max: 64, description: 'The provider id from OIDC_PROVIDERS' })
  provider!: string;
}

export class PutAuthenticationDto {
  @StringField({ max: 255 })
  serviceUser!: string;

  @StringField({ max: 8192 })
  accessToken!: string;

  @StringField({ optional: true, max: 8192 })
  accessSecret?: string;

  @StringField({ optional: true, max: 200 })
  displayName?: string;

  @DateTimeField({ optional: true })
  accessTokenExpires?: string;

  @DateTimeField({ optional: true })
  accessSecretExpires?: string;
}
