import { Body, Controller, Delete, Get, Header, HttpCode, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';
import { WebAuthnService } from '#src/auth/mfa/webauthn.service.js';
import {
  ConfirmTotpDto,
  FactorList,
  PasskeyRegistered,
  RecoveryCodes,
  RegisterPasskeyDto,
  StartTotpDto,
  TotpEnrolment,
  WEBAUTHN_OPTIONS_SCHEMA,
} from '#src/auth/mfa/mfa.dto.js';

/** The caller's own second factors. Changes need a recent sign-in (REAUTH_MINUTES). */
@ApiTags('mfa')
@Controller('users/me/mfa')
export class OwnMfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly webauthn: WebAuthnService,
  ) {}

  @Authenticated({ credentials: ['session'], duringMfaEnrolment: true })
  @Post('webauthn/options')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'passkeyRegistrationOptions',
    summary: 'Start registering a passkey: the options for navigator.credentials.create',
  })
  @ApiOkResponse({ schema: WEBAUTHN_OPTIONS_SCHEMA })
  @ApiProblems(401, 403)
  async webauthnOptions(@CurrentPrincipal() p: Principal): Promise<object> {
    return this.webauthn.registrationOptions(p);
  }

  @Authenticated({ credentials: ['session'], duringMfaEnrolment: true })
  @Post('webauthn')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'registerPasskey',
    summary: 'Register a passkey from its attestation; the first factor answers recovery codes',
  })
  @ApiCreatedResponse({ type: PasskeyRegistered })
  @ApiProblems(400, 401, 403, 409)
  registerPasskey(
    @CurrentPrincipal() p: Principal,
    @Body() body: RegisterPasskeyDto,
  ): Promise<PasskeyRegistered> {
    return this.webauthn.register(p, body.name, body.response);
  }

  @Authenticated({ duringMfaEnrolment: true })
  @Get()
  @ApiOperation({ operationId: 'listOwnFactors', summary: "The caller's second factors" })
  @ApiOkResponse({ type: FactorList })
  @ApiProblems(401)
  list(@CurrentPrincipal() p: Principal): Promise<FactorList> {
    return this.mfa.list(p.userId);
  }

  @Authenticated({ credentials: ['session'], duringMfaEnrolment: true })
  @Post('totp')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'startTotpEnrolment',
    summary: 'Start enrolling an authenticator app (not in force until confirmed)',
  })
  @ApiCreatedResponse({ type: TotpEnrolment })
  @ApiProblems(400, 401, 403)
  startTotp(@CurrentPrincipal() p: Principal, @Body() body: StartTotpDto): Promise<TotpEnrolment> {
    return this.mfa.startTotp(p, body.name);
  }

  @Authenticated({ credentials: ['session'], duringMfaEnrolment: true })
  @Post('totp/confirm')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'confirmTotpEnrolment',
    summary: 'Confirm an authenticator app with a code; the first factor answers recovery codes',
  })
  @ApiOkResponse({ type: RecoveryCodes })
  @ApiProblems(400, 401, 403, 404, 409)
  confirmTotp(
    @CurrentPrincipal() p: Principal,
    @Body() body: ConfirmTotpDto,
  ): Promise<RecoveryCodes> {
    return this.mfa.confirmTotp(p, body.factorId, body.code);
  }

  @Authenticated({ credentials: ['session'] })
  @Post('recovery-codes')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'replaceRecoveryCodes',
    summary: 'Replace the recovery codes; answers them once',
  })
  @ApiOkResponse({ type: RecoveryCodes })
  @ApiProblems(401, 403, 422)
  recoveryCodes(@CurrentPrincipal() p: Principal): Promise<RecoveryCodes> {
    return this.mfa.regenerateRecoveryCodes(p);
  }
}

/**
 * Another user's factors, for admins (users.manage): listing them, and removing one (`me` too,
 * after a recent sign-in). The user is mailed on removal.
 * `DELETE /users/me/mfa/:factorId` is this route with `me`.
 */
@ApiTags('mfa')
@Controller('users/:id/mfa')
export class UserMfaController {
  constructor(private readonly mfa: MfaService) {}

  // GET /users/me/mfa is OwnMfaController's (registered first, open during enrolment).
  @Authenticated({ permission: 'users.manage' })
  @Get()
  @ApiOperation({
    operationId: 'listUserFactors',
    summary: "A user's second factors (for an admin helping someone who lost one; never secrets)",
  })
  @ApiOkResponse({ type: FactorList })
  @ApiProblems(400, 401, 403, 404)
  list(@IdParam('id') id: string): Promise<FactorList> {
    return this.mfa.list(id);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':factorId')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'removeFactor',
    summary: 'Remove a second factor (own after a recent sign-in, or as an admin); mails the user',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 401, 403, 404)
  async remove(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @IdParam('factorId') factorId: string,
  ): Promise<void> {
    await this.mfa.removeFactor(p, id === 'me' ? p.userId : id, factorId);
  }
}
