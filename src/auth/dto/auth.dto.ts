import { ApiProperty } from '@nestjs/swagger';
import { EmailField, PasswordField, StringField } from '#src/common/validation.js';

export class SignupDto {
  @EmailField() email!: string;
  @PasswordField() password!: string;
  @StringField({ optional: true, max: 200 }) fullName?: string;
}

export class RegisterDto extends SignupDto {}

export class ActivateDto {
  @StringField({ max: 200 }) token!: string;
  @PasswordField({
    optional: true,
    description: 'Sets the password of an invited user without one',
  })
  password?: string;
}

export class LoginDto {
  @StringField({ max: 254, description: 'Email or username' }) username!: string;
  @PasswordField() password!: string;
}

export class PasswordResetDto {
  @EmailField() email!: string;
}

export class PasswordResetConfirmDto {
  @StringField({ max: 200 }) requestId!: string;
  @PasswordField() password!: string;
}

export class ChangePasswordDto {
  @PasswordField() currentPassword!: string;
  @PasswordField() newPassword!: string;
  @PasswordField() newPasswordConfirm!: string;
}

export class LoginResponseDto {
  @ApiProperty() user!: object;
  @ApiProperty() token!: string;
  @ApiProperty() expiresAt!: string;
}
