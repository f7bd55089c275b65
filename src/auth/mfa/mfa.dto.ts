import { ApiProperty } from '@nestjs/swagger';
import { IdField, ObjectField, PasswordField, StringField } from '#src/common/validation.js';
import type {
  FactorResponse,
  FactorSummary,
  MfaChallengeResponse,
} from '#src/auth/mfa/mfa.service.js';

const CODE = /^[0-9 ]{6,8}$/;
const RECOVERY = /^[A-Za-z2-7 -]{16,24}$/;

export class StartTotpDto {
  @StringField({ optional: true, max: 100, description: 'A name to tell factors apart' })
  name?: string;
}

export class ConfirmTotpDto {
  @IdField() factorId!: string;
  @StringField({ max: 8, pattern: CODE, patternMessage: 'must be a 6-digit code' }) code!: string;
}

export class LoginMfaDto {
  @StringField({ max: 200, description: 'From the first step of POST /auth/login' })
  mfaToken!: string;
  @StringField({
    optional: true,
    max: 8,
    pattern: CODE,
    patternMessage: 'must be a 6-digit code',
    description: 'A TOTP code',
  })
  code?: string;
  @StringField({
    optional: true,
    max: 24,
    pattern: RECOVERY,
    patternMessage: 'must be a recovery code',
    description: 'One of the recovery codes (each works once)',
  })
  recoveryCode?: string;
  @ObjectField({
    optional: true,
    description:
      "A passkey's assertion (navigator.credentials.get) answering the options of POST /auth/login/mfa/webauthn/options",
  })
  webauthn?: Record<string, unknown>;
}

export class MfaWebAuthnOptionsDto {
  @StringField({ max: 200, description: 'From the first step of POST /auth/login' })
  mfaToken!: string;
}

export class ReauthenticateDto {
  @PasswordField({ optional: true }) password?: string;
  @StringField({ optional: true, max: 8, pattern: CODE, patternMessage: 'must be a 6-digit code' })
  code?: string;
  @StringField({
    optional: true,
    max: 24,
    pattern: RECOVERY,
    patternMessage: 'must be a recovery code',
  })
  recoveryCode?: string;
}

export class FactorSummaryDto implements FactorSummary {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['totp', 'webauthn'] }) type!: 'totp' | 'webauthn';
  @ApiProperty() name!: string;
}

export class FactorDto extends FactorSummaryDto implements FactorResponse {
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt!: string | null;
}

export class FactorList {
  @ApiProperty({ type: [FactorDto], description: 'Factors in force' }) items!: FactorDto[];
  @ApiProperty({ type: 'integer' }) recoveryCodesLeft!: number;
  @ApiProperty({
    description: "Whether MFA_REQUIRED or a workspace's mfaRequired asks this user for a factor",
  })
  required!: boolean;
}

export class TotpEnrolment {
  @ApiProperty({ format: 'uuid' }) factorId!: string;
  @ApiProperty({ description: 'Base32 secret, shown once' }) secret!: string;
  @ApiProperty({ description: 'otpauth:// URI for a QR code' }) otpauthUri!: string;
}

export class RecoveryCodes {
  @ApiProperty({
    type: [String],
    description: 'Shown once; empty when this confirmation issued none (not the first factor)',
  })
  recoveryCodes!: string[];
}

export class MfaChallengeDto implements MfaChallengeResponse {
  @ApiProperty({ type: Boolean, description: 'Always true: a second step is needed' })
  mfaRequired!: true;
  @ApiProperty({ description: 'For POST /auth/login/mfa; 5 minutes, 3 attempts' })
  mfaToken!: string;
  @ApiProperty({ type: [FactorSummaryDto] }) factors!: FactorSummaryDto[];
}

export class RegisterPasskeyDto {
  @StringField({ optional: true, max: 100, description: 'A name to tell factors apart' })
  name?: string;
  @ObjectField({
    description: "The browser's registration response (navigator.credentials.create)",
  })
  response!: Record<string, unknown>;
}

export class PasskeyLoginDto {
  @ObjectField({ description: "The browser's assertion (navigator.credentials.get)" })
  response!: Record<string, unknown>;
}

export class PasskeyRegistered extends RecoveryCodes {
  @ApiProperty({ format: 'uuid' }) factorId!: string;
}

/** WebAuthn options as @simplewebauthn/browser's startRegistration/startAuthentication take them. */
export const WEBAUTHN_OPTIONS_SCHEMA = {
  type: 'object' as const,
  additionalProperties: true,
  description: 'PublicKeyCredentialCreationOptionsJSON / PublicKeyCredentialRequestOptionsJSON',
};
