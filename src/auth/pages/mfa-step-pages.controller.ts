import { Controller, Get, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import { queryOf } from '#src/common/http/request.js';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { WEBAUTHN_OPTIONS_SCHEMA } from '#src/auth/mfa/mfa.dto.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** The passkey assertion a page form carries as JSON text (`webauthn`), or undefined. */
function passkeyAnswer(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 16_384) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

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
  async show(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const token = cookieOf(req.cookies, MFA_COOKIE);
    if (!token) {
      res.redirect('/signin', 303);
      return;
    }
    sendPage(
      res,
      200,
      'Two-step sign-in',
      mfaStepPage({
        returnTo: this.pages.returnTo(queryOf(req)['returnTo']),
        passkey: await this.auth.secondStepHasPasskey(token),
      }),
    );
  }

  @Public()
  @SignInRateLimit()
  @Post('passkey')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'mfaStepPasskeyOptions',
    summary:
      "The page's passkey step: options for navigator.credentials.get bound to the mfaToken cookie (JSON)",
  })
  @ApiProduces('application/json')
  @ApiOkResponse({ schema: WEBAUTHN_OPTIONS_SCHEMA })
  @ApiHtml(401, 'A page: the sign-in expired, or the account has no passkey')
  @ApiHtml(403, 'A page refusing a cross-site request')
  @ApiProblems(429)
  async passkeyOptions(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    res.header('Cache-Control', 'no-store');
    try {
      this.pages.checkOrigin(req);
      res.send(await this.auth.passkeySecondStepOptions(cookieOf(req.cookies, MFA_COOKIE) ?? ''));
    } catch (err) {
      // Failures are pages, as on every /signin path (the script only looks at the status).
      if (err instanceof AppException && err.code === 'unauthenticated') {
        sendPage(
          res,
          401,
          'Two-step sign-in',
          mfaStepPage({
            returnTo: this.pages.returnTo(undefined),
            error: 'This sign-in expired, or the account has no passkey. Start again.',
          }),
        );
        return;
      }
      renderSignInError(res, err);
    }
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post()
  @ApiOperation({
    operationId: 'submitMfaStepPage',
    summary: 'Complete a page sign-in with a code or a passkey assertion (`webauthn`, JSON text)',
  })
  @ApiRedirect(303, 'Signed in: to returnTo')
  @ApiHtml(401, 'The page again, saying the code is not correct')
  @ApiHtml(403, 'A page refusing a cross-site form post')
  @ApiProblems(429)
  async submit(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    const returnTo = this.pages.returnTo(body['returnTo']);
    try {
      this.pages.checkOrigin(req);
      const token = cookieOf(req.cookies, MFA_COOKIE) ?? '';
      const raw = typeof body['code'] === 'string' ? body['code'].trim().slice(0, 40) : '';
      const webauthn = passkeyAnswer(body['webauthn']);
      const input = webauthn
        ? { webauthn }
        : /^\d{6}$/.test(raw.replace(/\s/g, ''))
          ? { code: raw }
          : { recoveryCode: raw };
      try {
        const out = await this.auth.loginMfa(token, input, sessionContext(req, 'password'));
        await this.linking.retirePreviousSession(req, cookieOf(req.cookies, SESSION_COOKIE));
        clearMfaCookie(res, this.config);
        setSessionCookie(res, this.config, out.token, out.expiresAt);
        res.header('Cache-Control', 'no-store').redirect(returnTo, 303);
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
              passkey: await this.auth.secondStepHasPasskey(token),
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
