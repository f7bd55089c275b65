import { Controller, Get, Param, Req, Res, UseFilters } from '@nestjs/common';
import { queryOf } from '#src/common/http/request.js';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ProviderList } from '#src/auth/dto/auth.responses.js';
import { ApiHtml, ApiProblems, ApiRedirect } from '#src/common/http/api-problems.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { SESSION_COOKIE } from '#src/kernel/auth.guard.js';
import { renderSignInError, SignInPageFilter } from '#src/auth/pages/render-error.js';
import { setSessionCookie } from '#src/auth/session-cookie.js';
import { mfaStepUrl, setMfaCookie } from '#src/auth/pages/mfa-step.js';
import { sessionContext } from '#src/auth/sessions/sessions.service.js';
import { OidcSignInService } from '#src/auth/oidc/oidc-sign-in.service.js';
import {
  BINDING_COOKIE,
  clearLinkCookie,
  cookieOf,
  setBindingCookie,
  setLinkCookie,
} from '#src/auth/oidc/sign-in-cookies.js';

@ApiTags('auth')
@Controller('auth')
export class OidcController {
  constructor(
    private readonly oidc: OidcSignInService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('providers')
  @ApiOperation({
    operationId: 'listProviders',
    summary: 'Configured identity providers (id, display name, login URL).',
  })
  @ApiOkResponse({ type: ProviderList })
  providers(): ProviderList {
    return this.oidc.list();
  }

  @Public()
  @SignInRateLimit()
  @Get('oidc/:provider/login')
  @UseFilters(SignInPageFilter)
  @ApiOperation({
    operationId: 'startOidcLogin',
    summary:
      'Starts browser sign-in at an OpenID Connect provider (code flow with state, nonce and PKCE); returnTo must be a relative path.',
  })
  @ApiParam({ name: 'provider', description: "The provider's id from OIDC_PROVIDERS" })
  @ApiQuery({ name: 'returnTo', required: false, description: 'A relative path' })
  @ApiRedirect(302, "To the provider's authorization endpoint")
  @ApiHtml(400, 'A page saying what went wrong (bad returnTo)')
  @ApiHtml(404, 'A page saying the provider is unknown')
  @ApiHtml(502, 'A page saying the provider could not be reached')
  @ApiProblems(429)
  async login(
    @Param('provider') provider: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const binding = this.oidc.binding(cookieOf(req.cookies, BINDING_COOKIE));
    try {
      const url = await this.oidc.beginLogin(provider, queryOf(req)['returnTo'], binding);
      setBindingCookie(res, this.config, binding);
      res.header('Cache-Control', 'no-store').redirect(url, 302);
    } catch (err) {
      renderSignInError(res, err);
    }
  }

  @Public({ setsSessionCookie: true })
  @SignInRateLimit()
  @Get('oidc/:provider/callback')
  @UseFilters(SignInPageFilter)
  @ApiOperation({
    operationId: 'completeOidcLogin',
    summary:
      'Completes browser sign-in: links or creates the account, starts a session, redirects to returnTo.',
  })
  @ApiParam({ name: 'provider', description: "The provider's id from OIDC_PROVIDERS" })
  @ApiRedirect(
    303,
    'Signed in: to returnTo; or to /signin/link to confirm linking; or to /signin/mfa when a second factor is in force',
  )
  @ApiHtml(400, 'A page saying what went wrong (state, code, token)')
  @ApiHtml(403, 'A page saying the sign-in was refused (disabled account, linking not allowed)')
  @ApiHtml(502, 'A page saying the provider could not be reached')
  @ApiProblems(429)
  async callback(
    @Param('provider') provider: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    try {
      const out = await this.oidc.completeLogin(
        provider,
        queryOf(req),
        cookieOf(req.cookies, BINDING_COOKIE),
        sessionContext(req, 'oidc'),
        req,
        cookieOf(req.cookies, SESSION_COOKIE),
      );
      res.header('Cache-Control', 'no-store');
      if (out.kind === 'signed_in') {
        clearLinkCookie(res, this.config);
        setSessionCookie(res, this.config, out.token, out.expiresAt);
        res.redirect(`${this.config.publicUrl}${out.returnTo}`, 303);
      } else if (out.kind === 'mfa') {
        // A factor is in force: no session yet; the second step finishes the sign-in.
        clearLinkCookie(res, this.config);
        setMfaCookie(res, this.config, out.mfaToken);
        res.redirect(`${this.config.publicUrl}${mfaStepUrl(out.returnTo)}`, 303);
      } else {
        setLinkCookie(res, this.config, out.linkToken);
        res.redirect(`${this.config.publicUrl}/signin/link`, 303);
      }
    } catch (err) {
      renderSignInError(res, err);
    }
  }
}
