import { ArrayMinSize, IsEmail } from 'class-validator';
import { EnumField, PasswordField, StringArrayField, StringField } from '#src/common/validation.js';
import { WORKSPACE_ROLES, type WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';

export class CreateInvitationsDto {
  @StringArrayField({ maxItems: 100, itemMax: 254, description: 'Emails to invite' })
  @ArrayMinSize(1, { message: 'must not be empty' })
  @IsEmail({}, { each: true, message: 'each item must be a valid email address' })
  emails!: string[];

  @EnumField(WORKSPACE_ROLES)
  role!: WorkspaceRole;
}

export class AcceptInvitationDto {
  @StringField({ max: 200, description: 'The token from the mailed /invite link' })
  token!: string;

  @PasswordField({
    optional: true,
    description: 'Required when the invited email has no account or an account without a password',
  })
  password?: string;
}

export class DeclineInvitationDto {
  @StringField({ max: 200, description: 'The token from the mailed /invite link' })
  token!: string;
}
