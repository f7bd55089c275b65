import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { HotRead } from '#src/common/http/hot-read.js';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiExtraModels,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import {
  LoginMfaDto,
  MfaChallengeDto,
  MfaWebAuthnOptionsDto,
  PasskeyLoginDto,
  ReauthenticateDto,
  WEBAUTHN_OPTIONS_SCHEMA,
} from '#src/auth/mfa/mfa.dto.js';
import { WebAuthnService } from '#src/auth/mfa/webauthn.service.js';
import { ApiProblems } from '#src/common/http/api-problems.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { Authenticated, CurrentPrincipal, Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { AuthService } from '#src/auth/auth.service.js';
import {
  ActivateDto,
  ChangePasswordDto,
  LoginDto,
  PasswordResetConfirmDto,
  PasswordResetDto,
  RegisterDto,
  SignupDto,
} from '#src/auth/dto/auth.dto.js';
import {
  PasswordPolicyDto,
  PasswordResetAccepted,
  SignedInResponse,
  SignUpResponse,
  WhoAmIResponse,
} from '#src/auth/dto/auth.responses.js';
import { UserResponseDto } from '#src/users/dto/user.responses.js';
import { PasswordService } from '#src/crypto/password.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { clearSessionCookie, setSessionCookie } from '#src/auth/session-cookie.js';
import { sessionContext } from '#src/auth/sessions/sessions.service.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly passwords: PasswordService,
    private readonly config: AppConfig,
    private readonly webauthn: WebAuthnService,
  ) {}

  @Public()
  @SignInRateLimit()
  @Post('login/passkey/options')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'passkeyLoginOptions',
    summary: 'Start a passwordless sign-in: the options for navigator.credentials.get',
  })
  @ApiOkResponse({ schema: WEBAUTHN_OPTIONS_SCHEMA })
  @ApiProblems(429)
  async passkeyOptions(): Promise<object> {
    return this.webauthn.authenticationOptions();
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('login/passkey')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'loginPasskey',
    summary: 'Sign in with a discoverable passkey; sets the session cookie',
  })
  @ApiOkResponse({ type: SignedInResponse })
  @ApiProblems(400, 401, 429)
  async loginPasskey(
    @Body() body: PasskeyLoginDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<SignedInResponse> {
    const out = await this.auth.loginPasskey(body.response, sessionContext(req, 'passkey'));
    setSessionCookie(res, this.config, out.token, out.expiresAt);
    return out;
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('signup')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'signup',
    summary: 'Create the first user (admin), or a user with a workspace of their own',
  })
  @ApiCreatedResponse({ type: SignUpResponse })
  @ApiProblems(400, 403, 409, 422, 429)
  async signup(
    @Body() body: SignupDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<SignUpResponse> {
    const out = await this.auth.signup(
      body.email,
      body.password,
      body.fullName,
      sessionContext(req, 'password'),
    );
    if (out.token && out.expiresAt) setSessionCookie(res, this.config, out.token, out.expiresAt);
    return out;
  }

  @Public()
  @SignInRateLimit()
  @Post('register')
  @ApiOperation({ operationId: 'register', summary: 'Register a user' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiProblems(400, 403, 409, 422, 429)
  register(@Body() body: RegisterDto): Promise<UserResponseDto> {
    return this.auth.register(body.email, body.password, body.fullName);
  }

  @Public()
  @SignInRateLimit()
  @Post('activate')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'activate',
    summary: 'Activate a pending user from the mailed token',
  })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(400, 422, 429)
  activate(@Body() body: ActivateDto): Promise<UserResponseDto> {
    return this.auth.activate(body.token, body.password);
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'login',
    summary: 'Sign in with email (or username) and password; sets the session cookie',
  })
  @ApiExtraModels(SignedInResponse, MfaChallengeDto)
  @ApiOkResponse({
    description: 'Signed in, or (with a second factor in force) a challenge and no session',
    schema: {
      oneOf: [{ $ref: getSchemaPath(SignedInResponse) }, { $ref: getSchemaPath(MfaChallengeDto) }],
    },
  })
  @ApiProblems(400, 401, 429)
  async login(
    @Body() body: LoginDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<SignedInResponse | MfaChallengeDto> {
    const out = await this.auth.login(
      body.username,
      body.password,
      sessionContext(req, 'password'),
    );
    if ('token' in out) setSessionCookie(res, this.config, out.token, out.expiresAt);
    return out;
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('login/mfa')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'loginMfa',
    summary:
      'Complete a sign-in with a TOTP code, a recovery code or a passkey; sets the session cookie',
  })
  @ApiOkResponse({ type: SignedInResponse })
  @ApiProblems(400, 401, 429)
  async loginMfa(
    @Body() body: LoginMfaDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<SignedInResponse> {
    const out = await this.auth.loginMfa(
      body.mfaToken,
      { code: body.code, recoveryCode: body.recoveryCode, webauthn: body.webauthn },
      sessionContext(req, 'password'),
    );
    setSessionCookie(res, this.config, out.token, out.expiresAt);
    return out;
  }

  @Public()
  @SignInRateLimit()
  @Post('login/mfa/webauthn/options')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'passkeySecondStepOptions',
    summary:
      'A passkey as the second step: the options for navigator.credentials.get, bound to the mfaToken',
  })
  @ApiOkResponse({ schema: WEBAUTHN_OPTIONS_SCHEMA })
  @ApiProblems(400, 401, 429)
  passkeySecondStepOptions(@Body() body: MfaWebAuthnOptionsDto): Promise<object> {
    return this.auth.passkeySecondStepOptions(body.mfaToken);
  }

  @Authenticated({ credentials: ['session'], duringMfaEnrolment: true })
  @SignInRateLimit()
  @Post('reauthenticate')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'reauthenticate',
    summary: "Prove the password or a code again: refreshes the session's sign-in time",
  })
  @ApiNoContentResponse({ description: 'The session counts as a recent sign-in' })
  @ApiProblems(400, 401, 403, 429)
  async reauthenticate(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ReauthenticateDto,
  ): Promise<void> {
    await this.auth.reauthenticate(principal, {
      password: body.password,
      code: body.code,
      recoveryCode: body.recoveryCode,
    });
  }

  @Authenticated({ duringMfaEnrolment: true })
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ operationId: 'logout', summary: 'Revoke the session or token of this request' })
  @ApiNoContentResponse({ description: 'Signed out' })
  @ApiProblems(401)
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<void> {
    await this.auth.logout(principal);
    clearSessionCookie(res, this.config);
  }

  @Authenticated({ duringMfaEnrolment: true })
  @HotRead()
  @Get('whoami')
  @ApiOperation({ operationId: 'whoami', summary: 'The caller, with effective server permissions' })
  @ApiOkResponse({ type: WhoAmIResponse })
  @ApiProblems(401)
  whoami(@CurrentPrincipal() principal: Principal): Promise<WhoAmIResponse> {
    return this.auth.whoami(principal);
  }

  @Public()
  @SignInRateLimit()
  @Post('password-reset')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'requestPasswordReset',
    summary: 'Mail a password reset link (always 202)',
  })
  @ApiAcceptedResponse({ type: PasswordResetAccepted })
  @ApiProblems(400, 429)
  passwordReset(@Body() body: PasswordResetDto): PasswordResetAccepted {
    this.auth.requestPasswordReset(body.email);
    return { status: 'accepted' };
  }

  @Public()
  @SignInRateLimit()
  @Post('password-reset/confirm')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'confirmPasswordReset',
    summary: 'Set a new password from a reset request; signs out every session',
  })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(400, 422, 429)
  confirmReset(@Body() body: PasswordResetConfirmDto): Promise<UserResponseDto> {
    return this.auth.confirmPasswordReset(body.requestId, body.password);
  }

  @Public()
  @Get('password-policy')
  @ApiOperation({ operationId: 'getPasswordPolicy', summary: 'The password policy in force' })
  @ApiOkResponse({ type: PasswordPolicyDto })
  policy(): PasswordPolicyDto {
    return this.passwords.policy();
  }
}

@ApiTags('users')
@Controller('users/me/password')
export class OwnPasswordController {
  constructor(private readonly auth: AuthService) {}

  @Authenticated({ credentials: ['session'] })
  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'changeOwnPassword',
    summary: "Change the caller's password; other sessions are revoked",
  })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(400, 401, 403, 422)
  change(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangePasswordDto,
  ): Promise<UserResponseDto> {
    return this.auth.changePassword(
      principal,
      body.currentPassword,
      body.newPassword,
      body.newPasswordConfirm,
    );
  }
}
