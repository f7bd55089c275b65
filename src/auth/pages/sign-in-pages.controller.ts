import { Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { queryOf } from '#src/common/http/request.js';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiHtml, ApiProblems, ApiRedirect } from '#src/common/http/api-problems.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { SESSION_COOKIE } from '#src/kernel/auth.guard.js';
import { clearSessionCookie, setSessionCookie } from '#src/auth/session-cookie.js';
import { sessionContext } from '#src/auth/sessions/sessions.service.js';
import { OidcLinkingService } from '#src/auth/oidc/oidc-linking.service.js';
import { clearLinkCookie, cookieOf, LINK_COOKIE } from '#src/auth/oidc/sign-in-cookies.js';
import {
  confirmLinkPage,
  sendPage,
  signedInPage,
  SIGN_IN_NOTICES,
  signInPage,
} from '#src/auth/pages/html.js';
import { renderSignInError, SignInPageFilter } from '#src/auth/pages/render-error.js';
import { SignInPagesService } from '#src/auth/pages/sign-in-pages.service.js';
import { mfaStepUrl, setMfaCookie } from '#src/auth/pages/mfa-step.js';
import { PASSKEY_SCRIPT } from '#src/auth/pages/passkey-script.js';

function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b: unknown = req.body;
  return b && typeof b === 'object' ? (b as Record<string, unknown>) : {};
}

/** One of the fixed notices, by its key (`?notice=password-reset`); anything else shows none. */
function noticeOf(raw: unknown): string | null {
  return typeof raw === 'string' && Object.hasOwn(SIGN_IN_NOTICES, raw)
    ? (SIGN_IN_NOTICES[raw] ?? null)
    : null;
}

/**
 * Pages a person sees (plain HTML, no JavaScript): `/signin` (password form and one button per
 * identity provider), `/signin/link` (confirm linking with the local password), `/signin/done`.
 */
// Server-rendered HTML for people in a browser; listed in OpenAPI so every route is described.
@ApiTags('pages')
@ApiProduces('text/html')
@Controller('signin')
@UseFilters(SignInPageFilter)
export class SignInPagesController {
  constructor(
    private readonly pages: SignInPagesService,
    private readonly linking: OidcLinkingService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'showSignInPage', summary: 'The sign-in page' })
  @ApiHtml(200, 'The page')
  signIn(@Req() req: FastifyRequest, @Res() res: FastifyReply): void {
    const returnTo = this.pages.returnTo(queryOf(req)['returnTo']);
    sendPage(
      res,
      200,
      'Sign in',
      signInPage({
        providers: this.pages.buttons(returnTo),
        returnTo,
        notice: noticeOf(queryOf(req)['notice']),
        registrationOpen: this.config.registration !== 'closed',
      }),
    );
  }

  @Public()
  @Get('passkey.js')
  @ApiOperation({
    operationId: 'signInPasskeyScript',
    summary: "The sign-in pages' passkey script (progressive enhancement, served from our origin)",
  })
  @ApiProduces('text/javascript')
  @ApiOkResponse({ description: 'The script' })
  passkeyScript(@Res() res: FastifyReply): void {
    res
      .status(200)
      .headers({
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'public, max-age=300',
        'X-Content-Type-Options': 'nosniff',
      })
      .send(PASSKEY_SCRIPT);
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post()
  @ApiOperation({ operationId: 'submitSignInPage', summary: 'Sign in from the page form' })
  @ApiRedirect(303, 'Signed in: to returnTo; or to the code step /signin/mfa')
  @ApiHtml(401, 'The page again, saying the sign-in failed')
  @ApiHtml(403, 'A page refusing a cross-site form post')
  @ApiProblems(429)
  async submit(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const body = bodyOf(req);
    try {
      const out = await this.pages.passwordSignIn(
        req,
        body,
        sessionContext(req, 'password'),
        cookieOf(req.cookies, SESSION_COOKIE),
      );
      if (out.kind === 'signed_in') {
        setSessionCookie(res, this.config, out.token, out.expiresAt);
        res.header('Cache-Control', 'no-store').redirect(out.returnTo, 303);
        return;
      }
      if (out.kind === 'mfa') {
        setMfaCookie(res, this.config, out.mfaToken);
        res.header('Cache-Control', 'no-store').redirect(mfaStepUrl(out.returnTo), 303);
        return;
      }
      const returnTo = this.pages.returnTo(body['returnTo']);
      sendPage(
        res,
        401,
        'Sign in',
        signInPage({
          providers: this.pages.buttons(returnTo),
          returnTo,
          username: typeof body['username'] === 'string' ? body['username'].slice(0, 254) : '',
          error: out.message,
          registrationOpen: this.config.registration !== 'closed',
        }),
      );
    } catch (err) {
      renderSignInError(res, err);
    }
  }

  @Public()
  @Get('link')
  @ApiOperation({
    operationId: 'showLinkPage',
    summary: 'Confirm linking a provider sign-in with the local password',
  })
  @ApiHtml(200, 'The page')
  @ApiHtml(400, 'A page saying the link request is missing or expired')
  async linkPage(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    try {
      const view = await this.linking.describePendingLink(cookieOf(req.cookies, LINK_COOKIE));
      sendPage(res, 200, 'Link your sign-in', confirmLinkPage(view));
    } catch (err) {
      renderSignInError(res, err);
    }
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Post('link')
  @ApiOperation({ operationId: 'submitLinkPage', summary: 'Confirm the link with the password' })
  @ApiRedirect(303, 'Linked and signed in: to returnTo; or to /signin/mfa for the second factor')
  @ApiHtml(400, 'A page saying the link request is missing or expired')
  @ApiHtml(401, 'The page again, saying the password is not correct')
  @ApiProblems(429)
  async confirmLink(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const linkToken = cookieOf(req.cookies, LINK_COOKIE);
    try {
      const out = await this.pages.confirmLink(
        req,
        bodyOf(req),
        linkToken,
        sessionContext(req, 'oidc'),
        cookieOf(req.cookies, SESSION_COOKIE),
      );
      if (out?.kind === 'signed_in') {
        clearLinkCookie(res, this.config);
        setSessionCookie(res, this.config, out.token, out.expiresAt);
        res.header('Cache-Control', 'no-store').redirect(out.returnTo, 303);
        return;
      }
      if (out?.kind === 'mfa') {
        clearLinkCookie(res, this.config);
        setMfaCookie(res, this.config, out.mfaToken);
        res.header('Cache-Control', 'no-store').redirect(mfaStepUrl(out.returnTo), 303);
        return;
      }
      const view = await this.linking.describePendingLink(linkToken);
      sendPage(
        res,
        401,
        'Link your sign-in',
        confirmLinkPage({ ...view, error: 'That password is not correct.' }),
      );
    } catch (err) {
      clearLinkCookie(res, this.config);
      renderSignInError(res, err);
    }
  }

  @Public()
  @Get('done')
  @ApiOperation({ operationId: 'showSignedInPage', summary: 'Who is signed in' })
  @ApiHtml(200, 'The page')
  @ApiRedirect(303, 'Not signed in: to /signin')
  async done(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const who = await this.pages.signedInAs(req, cookieOf(req.cookies, SESSION_COOKIE));
    if (!who) {
      res.redirect('/signin', 303);
      return;
    }
    sendPage(res, 200, 'Signed in', signedInPage(who));
  }

  @Public()
  @Post('signout')
  @ApiOperation({ operationId: 'submitSignOutPage', summary: 'Sign out from the page' })
  @ApiRedirect(303, 'Signed out: to /signin')
  @ApiHtml(403, 'A page refusing a cross-site form post')
  async signOut(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    try {
      await this.pages.signOut(req, cookieOf(req.cookies, SESSION_COOKIE));
      clearSessionCookie(res, this.config);
      res.redirect('/signin', 303);
    } catch (err) {
      renderSignInError(res, err);
    }
  }
}
