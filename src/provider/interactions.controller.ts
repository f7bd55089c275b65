import { handOver } from '#src/provider/hand-over.js';
import { Controller, Get, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '#src/kernel/auth.guard.js';
import type { InteractionDetails } from 'oidc-provider';
import { ApiHtml, ApiRedirect } from '#src/common/http/api-problems.js';
import { AppConfig } from '#src/config/config.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { html, sendPage } from '#src/auth/pages/html.js';
import { SignInPageFilter } from '#src/auth/pages/render-error.js';
import { SessionsService } from '#src/auth/sessions/sessions.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { ClientsService } from '#src/provider/clients/clients.service.js';
import { INTERACTION_PATH, OidcProviderService } from '#src/provider/oidc-provider.service.js';

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your Gatehouse account id)',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay connected when you are not using it',
  'gatehouse:projects': 'Act on your projects in Gatehouse with your permissions',
};

function errorPage(res: FastifyReply, status: number, message: string): void {
  sendPage(
    res,
    status,
    'Sign-in error',
    html`<h1>This sign-in cannot continue</h1>
      <p>${message}</p>
      <p>Go back to the application and start again.</p>`,
  );
}

/**
 * The provider's interactions are Gatehouse's own pages: login is the Gatehouse session (the
 * `/signin` page with password and upstream providers when there is none); consent is asked of
 * third-party clients, once per scope set.
 */
@ApiTags('pages')
@ApiProduces('text/html')
@Controller('oidc/interaction')
@UseFilters(SignInPageFilter)
export class InteractionsController {
  private readonly origin: string;

  constructor(
    private readonly oidc: OidcProviderService,
    private readonly clients: ClientsService,
    private readonly sessions: SessionsService,
    config: AppConfig,
  ) {
    this.origin = new URL(config.publicUrl).origin;
  }

  private async details(
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<InteractionDetails | null> {
    try {
      return await (await this.oidc.provider()).interactionDetails(req.raw, res.raw);
    } catch {
      errorPage(res, 400, 'This sign-in request has expired or is not yours.');
      return null;
    }
  }

  @Public()
  @Get(':uid')
  @ApiParam({ name: 'uid', type: String })
  @ApiOperation({
    operationId: 'showOidcInteraction',
    summary: 'An OpenID Provider interaction: sign-in (via /signin) or consent',
  })
  @ApiRedirect(303, 'To /signin, or back to the provider when done')
  @ApiHtml(200, 'The consent page')
  @ApiHtml(400, 'The interaction expired or is unknown')
  async show(@Param('uid') uid: string, @Req() req: FastifyRequest, @Res() res: FastifyReply) {
    const details = await this.details(req, res);
    if (!details) return;
    if (details.uid !== uid) return errorPage(res, 400, 'This sign-in request is not yours.');
    const provider = await this.oidc.provider();
    const principal = await this.oidc.sessionOf(req.cookies[SESSION_COOKIE]);
    if (details.prompt.name === 'login') {
      if (
        !principal &&
        (await this.oidc.sessionOf(req.cookies[SESSION_COOKIE], true))?.mfaEnrolmentRequired
      )
        return errorPage(
          res,
          403,
          'Your account needs a second sign-in factor first: set one up in your account (/account), then sign in to the application again.',
        );
      const authTime = principal ? await this.authTimeOf(principal) : null;
      if (!principal || authTime === null || !freshEnough(details, authTime)) {
        // No session, or (prompt=login, max_age) one that is not recent enough: sign in again.
        const returnTo = `${INTERACTION_PATH}/${uid}`;
        res.header('Cache-Control', 'no-store');
        return res.redirect(`/signin?returnTo=${encodeURIComponent(returnTo)}`, 303);
      }
      // auth_time is when the person signed in to Gatehouse (or re-authenticated), not now.
      return provider.interactionFinished(
        ...handOver(req, res),
        { login: { accountId: principal.userId, ts: authTime } },
        { mergeWithLastSubmission: false },
      );
    }
    if (details.prompt.name === 'consent') {
      if (!principal || principal.userId !== details.session?.accountId) {
        // The Gatehouse session ended or changed meanwhile: sign in again.
        return provider.interactionFinished(
          ...handOver(req, res),
          { error: 'login_required', error_description: 'the Gatehouse session ended' },
          { mergeWithLastSubmission: false },
        );
      }
      const clientId =
        typeof details.params['client_id'] === 'string' ? details.params['client_id'] : '';
      const client = await this.clients.find(clientId);
      if (!client) return errorPage(res, 400, 'This application is not registered.');
      if (client.firstParty) return this.grant(req, res, details);
      const d = details.prompt.details as {
        missingOIDCScope?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const scopes = [
        ...(d.missingOIDCScope ?? []),
        ...Object.values(d.missingResourceScopes ?? {}).flat(),
      ];
      return sendPage(
        res,
        200,
        'Allow access',
        html`<h1>Allow ${client.name} access?</h1>
          ${
            scopes.length
              ? html`<p>${client.name} asks to:</p>
                  <ul>
                    ${scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s}</li>`)}
                  </ul>`
              : html`<p>${client.name} asks to continue with your Gatehouse account.</p>`
          }
          <form method="post" action="${INTERACTION_PATH}/${uid}/consent">
            <button type="submit" name="decision" value="allow">Allow</button>
            <button type="submit" name="decision" value="deny">Deny</button>
          </form>`,
      );
    }
    return errorPage(res, 400, 'This sign-in step is not supported.');
  }

  @Public()
  @Post(':uid/consent')
  @ApiParam({ name: 'uid', type: String })
  @ApiOperation({
    operationId: 'submitOidcConsent',
    summary: 'Allow or deny a third-party client (the consent page form)',
  })
  @ApiRedirect(303, 'Back to the provider')
  @ApiHtml(400, 'The interaction expired, or the form came from elsewhere')
  async consent(@Param('uid') uid: string, @Req() req: FastifyRequest, @Res() res: FastifyReply) {
    const origin = req.headers.origin ?? refererOrigin(req.headers.referer);
    if (origin !== this.origin) return errorPage(res, 400, 'The form must come from this site.');
    const details = await this.details(req, res);
    if (!details) return;
    const principal = await this.oidc.sessionOf(req.cookies[SESSION_COOKIE]);
    if (
      details.uid !== uid ||
      details.prompt.name !== 'consent' ||
      !principal ||
      principal.userId !== details.session?.accountId
    )
      return errorPage(res, 400, 'This sign-in request is not yours.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body['decision'] !== 'allow') {
      const provider = await this.oidc.provider();
      return provider.interactionFinished(
        ...handOver(req, res),
        { error: 'access_denied', error_description: 'the person denied access' },
        { mergeWithLastSubmission: false },
      );
    }
    return this.grant(req, res, details);
  }

  /** When the session's person last proved who they are (seconds), or null for no live session. */
  private async authTimeOf(p: Principal): Promise<number | null> {
    if (p.credential.kind !== 'session') return null;
    const state = await this.sessions.authState(p.userId, p.credential.id);
    return state ? Math.floor(state.authTime.getTime() / 1000) : null;
  }

  /** Grants what the interaction asks for and returns to the provider. */
  private async grant(
    req: FastifyRequest,
    res: FastifyReply,
    details: InteractionDetails,
  ): Promise<void> {
    const provider = await this.oidc.provider();
    const accountId = details.session?.accountId;
    const clientId =
      typeof details.params['client_id'] === 'string' ? details.params['client_id'] : '';
    if (!accountId) return errorPage(res, 400, 'Sign in first.');
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId });
    const d = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(
      ...handOver(req, res),
      { consent: existing ? {} : { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
}

/**
 * prompt=login asks for a sign-in during this authorization request; max_age for one at most that
 * many seconds old. A sign-in after the interaction began satisfies both.
 */
function freshEnough(details: InteractionDetails, authTime: number): boolean {
  if (authTime >= details.iat) return true;
  if (details.prompt.reasons.includes('login_prompt')) return false;
  const maxAge = Number(details.params['max_age']);
  if (details.params['max_age'] !== undefined && Number.isFinite(maxAge))
    return Math.floor(Date.now() / 1000) - authTime <= maxAge;
  return true;
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}
