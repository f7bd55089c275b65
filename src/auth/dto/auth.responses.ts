import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ProviderResponse } from '#src/auth/oidc/oidc-sign-in.service.js';
import type { SignedIn, SignUpResult } from '#src/auth/auth.service.js';
import type { SessionResponse } from '#src/auth/sessions/sessions.service.js';
import { PageOf } from '#src/common/http/pagination.js';
import type { PasswordPolicy } from '#src/crypto/password.service.js';
import type { CredentialKind } from '#src/kernel/principal.js';
import { UserResponseDto } from '#src/users/dto/user.responses.js';

export class SignedInResponse implements SignedIn {
  @ApiProperty({ type: UserResponseDto }) user!: UserResponseDto;
  @ApiProperty({ description: 'Session token; also set as the session cookie' }) token!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class SignUpResponse implements SignUpResult {
  @ApiProperty({ type: UserResponseDto }) user!: UserResponseDto;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Null while the account waits for its mailed activation',
  })
  token!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty() activationRequired!: boolean;
}

const CREDENTIAL_KINDS: readonly CredentialKind[] = ['session', 'api_key', 'access_token'];

export class CredentialRefDto {
  @ApiProperty({ enum: CREDENTIAL_KINDS }) kind!: string;
  @ApiProperty() id!: string;
}

export class ImpersonatorDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() email!: string;
}

export class WhoAmIResponse extends UserResponseDto {
  @ApiPropertyOptional({
    type: ImpersonatorDto,
    description: 'Only through an impersonation session: who is acting as this user',
  })
  impersonatedBy?: ImpersonatorDto;
  @ApiPropertyOptional({ description: 'Only through an impersonation session: why' })
  reason?: string;
  @ApiProperty({ type: [String], description: 'Effective server permissions' })
  permissions!: string[];
  @ApiProperty({ type: CredentialRefDto, description: 'The credential that made the request' })
  credential!: CredentialRefDto;
}

export class PasswordResetAccepted {
  @ApiProperty({ enum: ['accepted'] }) status!: string;
}

export class PasswordPolicyDto implements PasswordPolicy {
  @ApiProperty({ type: 'integer' }) minLength!: number;
  @ApiProperty({ type: 'integer' }) maxLength!: number;
  @ApiProperty({ type: 'integer', description: 'In UTF-8 (bcrypt reads at most 72)' })
  maxBytes!: number;
  @ApiProperty({ type: [String] }) requiredClasses!: string[];
  @ApiProperty() breachedPasswordCheck!: boolean;
}

export class SessionResponseDto implements SessionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) lastSeenAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ example: 'password', description: 'How the session was started' })
  method!: string;
  @ApiProperty({ description: 'Whether this session made the request' }) current!: boolean;
  @ApiPropertyOptional({
    type: ImpersonatorDto,
    description: 'Only on an impersonation session: who acted as the user',
  })
  impersonatedBy?: ImpersonatorDto;
  @ApiPropertyOptional({ description: 'Only on an impersonation session: the reason given' })
  reason?: string;
}

export class SessionPage extends PageOf(SessionResponseDto) {}

export class ProviderResponseDto implements ProviderResponse {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uri' }) loginUrl!: string;
}

export class ProviderList {
  @ApiProperty({ type: [ProviderResponseDto] }) items!: ProviderResponseDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Always null (one page)' })
  nextCursor!: null;
}
