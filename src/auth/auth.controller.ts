import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
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
  ) {}

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('signup')
  @Header('Cache-Control', 'no-store')
  async signup(
    @Body() body: SignupDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
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
  register(@Body() body: RegisterDto) {
    return this.auth.register(body.email, body.password, body.fullName);
  }

  @Public()
  @SignInRateLimit()
  @Post('activate')
  @HttpCode(200)
  activate(@Body() body: ActivateDto) {
    return this.auth.activate(body.token, body.password);
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async login(
    @Body() body: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const out = await this.auth.login(
      body.username,
      body.password,
      sessionContext(req, 'password'),
    );
    setSessionCookie(res, this.config, out.token, out.expiresAt);
    return out;
  }

  @Authenticated()
  @Post('logout')
  @HttpCode(204)
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    await this.auth.logout(principal);
    clearSessionCookie(res, this.config);
  }

  @Authenticated()
  @Get('whoami')
  whoami(@CurrentPrincipal() principal: Principal) {
    return this.auth.whoami(principal);
  }

  @Public()
  @SignInRateLimit()
  @Post('password-reset')
  @HttpCode(202)
  passwordReset(@Body() body: PasswordResetDto): { status: string } {
    this.auth.requestPasswordReset(body.email);
    return { status: 'accepted' };
  }

  @Public()
  @SignInRateLimit()
  @Post('password-reset/confirm')
  @HttpCode(200)
  confirmReset(@Body() body: PasswordResetConfirmDto) {
    return this.auth.confirmPasswordReset(body.requestId, body.password);
  }

  @Public()
  @Get('password-policy')
  policy() {
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
  change(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto) {
    return this.auth.changePassword(
      principal,
      body.currentPassword,
      body.newPassword,
      body.newPasswordConfirm,
    );
  }
}
