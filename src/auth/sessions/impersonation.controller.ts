import { Body, Controller, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { IntField, StringField } from '#src/common/validation.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { UserResponseDto } from '#src/users/dto/user.responses.js';
import { ImpersonatorDto } from '#src/auth/dto/auth.responses.js';
import {
  IMPERSONATE_PERMISSION,
  IMPERSONATION_MAX_MINUTES,
  ImpersonationService,
  type ImpersonationResult,
} from '#src/auth/sessions/impersonation.service.js';
import { sessionContext } from '#src/auth/sessions/sessions.service.js';

export class ImpersonateDto {
  @StringField({ max: 500, description: 'Why: kept with the session and every audit entry' })
  reason!: string;

  @IntField({
    optional: true,
    min: 1,
    max: IMPERSONATION_MAX_MINUTES,
    description: 'Lifetime of the session in minutes (default 15)',
  })
  minutes?: number;
}

export class ImpersonateExternalDto extends ImpersonateDto {
  @StringField({ max: 64, description: "The identity provider's id from OIDC_PROVIDERS" })
  provider!: string;

  @StringField({ max: 255, description: "The user's subject at that provider (its external id)" })
  subject!: string;
}

export class ImpersonationResponseDto implements ImpersonationResult {
  @ApiProperty({ description: 'A session token for the user; shown once' }) token!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: UserResponseDto }) user!: UserResponseDto;
  @ApiProperty({ type: ImpersonatorDto }) impersonatedBy!: ImpersonatorDto;
  @ApiProperty() reason!: string;
}

@ApiTags('users')
@Controller('users')
export class ImpersonationController {
  constructor(private readonly impersonation: ImpersonationService) {}

  @Authenticated({ permission: IMPERSONATE_PERMISSION, changesCredentials: true })
  @Post('impersonate')
  @ApiOperation({
    operationId: 'impersonateExternalUser',
    summary:
      'Impersonate the user linked to an external identity (provider and subject), with a reason',
  })
  @ApiCreatedResponse({ type: ImpersonationResponseDto })
  @ApiProblems(400, 401, 403, 404, 422)
  async external(
    @CurrentPrincipal() p: Principal,
    @Body() body: ImpersonateExternalDto,
    @Req() req: FastifyRequest,
  ): Promise<ImpersonationResponseDto> {
    const userId = await this.impersonation.userIdForExternal(body.provider, body.subject);
    return this.impersonation.impersonate(
      p,
      userId,
      body.reason,
      body.minutes,
      sessionContext(req, 'impersonation'),
      `external:${body.provider}`,
    );
  }

  @Authenticated({ permission: IMPERSONATE_PERMISSION, changesCredentials: true })
  @Post(':id/impersonate')
  @ApiOperation({ operationId: 'impersonateUser', summary: 'Impersonate a user, with a reason' })
  @ApiCreatedResponse({ type: ImpersonationResponseDto })
  @ApiProblems(400, 401, 403, 404, 422)
  impersonate(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @Body() body: ImpersonateDto,
    @Req() req: FastifyRequest,
  ): Promise<ImpersonationResponseDto> {
    return this.impersonation.impersonate(
      p,
      id,
      body.reason,
      body.minutes,
      sessionContext(req, 'impersonation'),
      'user',
    );
  }
}
