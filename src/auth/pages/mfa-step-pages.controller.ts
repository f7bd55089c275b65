import { Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiHtml, ApiProblems, ApiRedirect } from '#src/common/http/api-problems.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { AppConfig } from '#src/config/config.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { setSessionCookie } from '#src/auth/session-cookie.js';
import { sessionContext } from '#src/auth/sessions/sessions.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { cookieOf } from '#src/auth/oidc/sign-in-cookies.js';
import { OidcLinkingService } from '#src/auth/oidc/oidc-linking.service.js';
import { SESSION_COOKIE } from '#src/kernel/auth.guard.js';
import { sendPage } from '#src/auth/pages/html.js';
import { renderSignInError, SignInPageFilter } from '#src/auth/pages/render-error.js';
import { SignInPagesService } from '#src/auth/pages/sign-in-pages.service.js';
import { clearMfaCookie, MFA_COOKIE, mfaStepPage } from '#src/auth/pages/mfa-step.js';

/** `/signin/mfa`: the second step of a page sign-in when the account has a factor in force. */
@ApiTags('pages')
@ApiProduces('text/html')
@Controller('signin/mfa')
@UseFilters(SignInPageFilter)
export class MfaStepPagesController {
  constructor(
    private readonly pages: SignInPagesService,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
    private readonly linking: OidcLinkingService,
  ) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'showMfaStepPage', summary: 'The code step of a page sign-in' })
  @ApiHtml(200, 'The page')
  @ApiRedirect(303, 'No sign-in in progress: to /signin')
  show(@Req() req: Request, @Res() res: Response): void {
    if (!cookieOf(req.cookies, MFA_COOKIE)) {
      res.redirect(303, '/signin');
      return;
    }
    sendPage(
      res,
      200,
      'Two-step sign-in',
      mfaStepPage({ returnTo: this.pages.returnTo(req.query['returnTo']) }),
    );
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post()
  @ApiOperation({
    operationId: 'submitMfaStepPage',
    summary: 'Complete a page sign-in with a code',
  })
  @ApiRedirect(303, 'Signed in: to returnTo')
  @ApiHtml(401, 'The page again, saying the code is not correct')
  @ApiHtml(403, 'A page refusing a cross-site form post')
  @ApiProblems(429)
  async submit(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    const returnTo = this.pages.returnTo(body['returnTo']);
    try {
      this.pages.checkOrigin(req);
      const token = cookieOf(req.cookies, MFA_COOKIE) ?? '';
      const raw = typeof body['code'] === 'string' ? body['code'].trim().slice(0, 40) : '';
      const input = /^\d{6}$/.test(raw.replace(/\s/g, '')) ? { code: raw } : { recoveryCode: raw };
      try {
        const out = await this.auth.loginMfa(token, input, sessionContext(req, 'password'));
        await this.linking.retirePreviousSession(req, cookieOf(req.cookies, SESSION_COOKIE));
        clearMfaCookie(res, this.config);
        setSessionCookie(res, this.config, out.token, out.expiresAt);
        res.set('Cache-Control', 'no-store').redirect(303, returnTo);
      } catch (err) {
        if (
          err instanceof AppException &&
          (err.code === 'unauthenticated' || err.code === 'validation_failed')
        ) {
          sendPage(
            res,
            401,
            'Two-step sign-in',
            mfaStepPage({
              returnTo,
              error:
                'That code is not correct, or this sign-in expired. After three wrong codes, start again.',
            }),
          );
          return;
        }
        throw err;
      }
    } catch (err) {
      renderSignInError(res, err);
    }
  }
}
