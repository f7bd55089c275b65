import {
  Catch,
  Controller,
  Get,
  Post,
  Req,
  Res,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { problemFromAppException } from '#src/common/errors/problem.filter.js';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiHtml, ApiProblems } from '#src/common/http/api-problems.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { Public } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { sendPage } from '#src/auth/pages/html.js';
import {
  InvitationsService,
  InvitationTokenError,
} from '#src/tenancy/invitations/invitations.service.js';
import { OptionalPrincipal } from '#src/tenancy/invitations/optional-principal.js';
import {
  acceptedPage,
  declinedPage,
  invitationPage,
  messagePage,
  TOKEN_PAGES,
  tokenProblemPage,
} from '#src/tenancy/invitations/invite-page.js';

function field(source: unknown, name: string): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const v = (source as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** Refusals before the handler (unsafe input, rate limits) answer HTML here, never JSON. */
@Catch(AppException)
class InvitePageFilter implements ExceptionFilter {
  catch(e: AppException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    const status = problemFromAppException(e).status;
    if (e.code === 'validation_failed') {
      sendPage(res, 400, TOKEN_PAGES.invalid.title, tokenProblemPage('invalid'));
      return;
    }
    sendPage(res, status, 'Invitation', messagePage('Request refused', e.detail));
  }
}

/**
 * `/invite?token=`: the page a mailed invitation opens. GET only shows it (mail scanners that
 * prefetch links spend nothing); the buttons POST. Works without JavaScript.
 */
@ApiTags('pages')
@ApiProduces('text/html')
@Controller('invite')
@UseFilters(InvitePageFilter)
export class InvitePageController {
  constructor(
    private readonly invitations: InvitationsService,
    private readonly principal: OptionalPrincipal,
  ) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'showInvitePage', summary: 'The invitation page (spends nothing)' })
  @ApiHtml(200, 'The invitation, with accept and decline buttons')
  @ApiHtml(400, 'A page saying the link is not valid')
  @ApiHtml(410, 'A page saying the invitation was used, revoked or has expired')
  async show(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const token = field(req.query, 'token') ?? '';
    try {
      const caller = await this.signedIn(req);
      const preview = await this.invitations.preview(token);
      sendPage(
        res,
        200,
        'Invitation',
        invitationPage({ preview, token, signedInAs: caller?.email ?? null }),
      );
    } catch (err) {
      this.fail(res, err, token, null);
    }
  }

  @Public()
  @SignInRateLimit()
  @Post()
  @ApiOperation({ operationId: 'submitInvitePage', summary: 'Accept or decline from the page' })
  @ApiHtml(200, 'Accepted or declined')
  @ApiHtml(400, 'The link is not valid, or the password was refused (the page again)')
  @ApiHtml(401, 'The page again: sign in as the invited email to accept')
  @ApiHtml(403, 'A page refusing a cross-site form post, or another account')
  @ApiHtml(410, 'A page saying the invitation was used, revoked or has expired')
  @ApiProblems(429)
  async submit(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const token = field(req.body, 'token') ?? '';
    let caller: Principal | null = null;
    try {
      if (!this.principal.sameOrigin(req)) {
        sendPage(
          res,
          403,
          'Form refused',
          messagePage(
            'Form sent from another site',
            'Open the invitation link from your mail again.',
          ),
        );
        return;
      }
      caller = await this.signedIn(req);
      const action = field(req.body, 'action');
      const preview = await this.invitations.preview(token);
      if (action === 'decline') {
        await this.invitations.decline(token, caller);
        sendPage(res, 200, 'Invitation declined', declinedPage({ title: preview.workspaceTitle }));
        return;
      }
      if (action !== 'accept') throw AppException.invalid('action', 'must be accept or decline');
      const password = field(req.body, 'password');
      await this.invitations.accept(token, password === '' ? undefined : password, caller);
      sendPage(
        res,
        200,
        'Invitation accepted',
        acceptedPage({ title: preview.workspaceTitle, signedIn: caller !== null }),
      );
    } catch (err) {
      await this.failWithForm(res, err, token, caller);
    }
  }

  /** The signed-in person, if any; a stale cookie or a refused one counts as signed out here. */
  private async signedIn(req: FastifyRequest): Promise<Principal | null> {
    try {
      return await this.principal.of(req);
    } catch {
      return null;
    }
  }

  private fail(res: FastifyReply, err: unknown, _token: string, _caller: Principal | null): void {
    if (err instanceof InvitationTokenError) {
      const p = TOKEN_PAGES[err.problem];
      sendPage(res, p.status, p.title, tokenProblemPage(err.problem));
      return;
    }
    throw err;
  }

  /** Token problems get their page; other refusals show the invitation again with the reason. */
  private async failWithForm(
    res: FastifyReply,
    err: unknown,
    token: string,
    caller: Principal | null,
  ): Promise<void> {
    if (err instanceof InvitationTokenError || !(err instanceof AppException)) {
      this.fail(res, err, token, caller);
      return;
    }
    const status =
      err.code === 'unauthenticated'
        ? 401
        : err.code === 'forbidden'
          ? 403
          : err.code === 'rule_refused'
            ? 422
            : 400;
    // A refused password is said at its field (and the alert points there); others in the alert.
    const passwordErrors = (err.errors ?? []).filter((e) => e.field === 'password');
    const others = (err.errors ?? []).filter((e) => e.field !== 'password');
    const passwordError = passwordErrors.length
      ? passwordErrors.map((e) => e.message.charAt(0).toUpperCase() + e.message.slice(1)).join(' ')
      : null;
    const message = others.length
      ? others.map((e) => `${e.field}: ${e.message}`).join(' ')
      : passwordError
        ? 'Please correct the marked field: the password was not accepted.'
        : err.detail;
    try {
      const preview = await this.invitations.preview(token);
      sendPage(
        res,
        status,
        'Invitation',
        invitationPage({
          preview,
          token,
          signedInAs: caller?.email ?? null,
          error: message,
          passwordError,
        }),
      );
    } catch (again) {
      this.fail(res, again, token, caller);
    }
  }
}
