import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { queryOf } from '#src/common/http/request.js';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '#src/common/errors/app.exception.js';
import { ApiHtml, ApiProblems, ApiRedirect } from '#src/common/http/api-problems.js';
import { sendPage } from '#src/common/http/html.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { PasswordResetDto, RegisterDto } from '#src/auth/dto/auth.dto.js';
import { fieldErrors, formValue, PagesService } from '#src/pages/pages.service.js';
import {
  activatePage,
  badActivationLinkPage,
  badResetLinkPage,
  checkMailPage,
  forgotPasswordPage,
  registerPage,
  registrationClosedPage,
  resetPasswordPage,
  type FormErrors,
  type PageView,
} from '#src/pages/views.js';

function send(res: FastifyReply, view: PageView): void {
  sendPage(res, view.status, view.title, view.body);
}

/** A refusal of the service as a form's status and field messages; anything else is rethrown. */
function refusal(e: unknown, fallbackField: string): { status: number; errors: FormErrors } {
  if (!(e instanceof AppException)) throw e;
  const status =
    e.code === 'validation_failed'
      ? 400
      : e.code === 'rule_refused'
        ? 422
        : e.code === 'conflict'
          ? 409
          : null;
  if (status === null) throw e;
  return { status, errors: fieldErrors(e, fallbackField) };
}

/**
 * The pages every mailed link and the sign-in page lead to (plain HTML forms, no JavaScript):
 * `/` (where to go), `/register`, `/forgot-password`, `/reset-password`, `/activate`. A GET only
 * shows a form, so a mail scanner prefetching a link spends nothing; the POST acts.
 */
// Server-rendered HTML for people in a browser; listed in OpenAPI so every route is described.
@ApiTags('pages')
@ApiProduces('text/html')
@Controller()
export class PagesController {
  constructor(private readonly pages: PagesService) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'showHome', summary: 'Where a browser starts' })
  @ApiRedirect(303, 'To /signin when signed out, /console for admins, else /account')
  async home(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const to = await this.pages.home(req);
    res.header('Cache-Control', 'no-store').redirect(to, 303);
  }

  // Registration

  @Public()
  @Get('register')
  @ApiOperation({ operationId: 'showRegisterPage', summary: 'The page to create an account' })
  @ApiHtml(200, 'The page')
  @ApiHtml(403, 'A page saying registration is closed')
  register(@Res() res: FastifyReply): void {
    if (this.pages.registration === 'closed') return send(res, registrationClosedPage());
    sendPage(res, 200, 'Create account', registerPage({ minLength: this.pages.minPasswordLength }));
  }

  @Public()
  @SignInRateLimit()
  @Post('register')
  @ApiOperation({ operationId: 'submitRegisterPage', summary: 'Create an account from the page' })
  @ApiHtml(200, 'Created: a page saying to check the mail for the activation link')
  @ApiRedirect(303, 'Created and active (REGISTRATION=open): to /signin with a notice')
  @ApiHtml(400, 'The page again, with the message next to each refused field')
  @ApiHtml(403, 'Registration is closed, or a form sent from another site')
  @ApiHtml(409, 'The page again: an account with this email exists')
  @ApiHtml(422, 'The page again: the password policy refused the password')
  @ApiProblems(429)
  async submitRegister(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    this.pages.checkOrigin(req);
    if (this.pages.registration === 'closed') return send(res, registrationClosedPage());
    const email = formValue(req.body, 'email').trim();
    const fullName = formValue(req.body, 'fullName').trim();
    const password = formValue(req.body, 'password');
    const values = { email: email.slice(0, 254), fullName: fullName.slice(0, 200) };
    const again = (status: number, errors: FormErrors): void =>
      sendPage(
        res,
        status,
        'Create account',
        registerPage({ values, errors, minLength: this.pages.minPasswordLength }),
      );
    const invalid = await this.pages.validate(RegisterDto, {
      email,
      password,
      ...(fullName ? { fullName } : {}),
    });
    const passwordErrors = this.pages.newPasswordErrors(
      password,
      formValue(req.body, 'passwordConfirm'),
    );
    if (invalid || passwordErrors) {
      return again(400, { ...passwordErrors, ...invalid });
    }
    try {
      await this.pages.auth.register(email, password, fullName || undefined);
    } catch (e) {
      const r = refusal(e, 'email');
      return again(r.status, r.errors);
    }
    if (this.pages.registration === 'open') {
      res.redirect('/signin?notice=registered', 303);
      return;
    }
    sendPage(
      res,
      200,
      'Check your mail',
      checkMailPage({
        heading: 'Check your mail',
        text: `We have sent an activation link to ${email}. Open it to activate your account.`,
      }),
    );
  }

  // Password reset

  @Public()
  @Get('forgot-password')
  @ApiOperation({ operationId: 'showForgotPasswordPage', summary: 'Ask for a reset link' })
  @ApiHtml(200, 'The page')
  forgot(@Res() res: FastifyReply): void {
    sendPage(res, 200, 'Reset your password', forgotPasswordPage({}));
  }

  @Public()
  @SignInRateLimit()
  @Post('forgot-password')
  @ApiOperation({ operationId: 'submitForgotPasswordPage', summary: 'Mail a reset link' })
  @ApiHtml(200, 'The same answer whether or not the email is known')
  @ApiHtml(400, 'The page again: the email is not valid')
  @ApiHtml(403, 'A page refusing a form sent from another site')
  @ApiProblems(429)
  async submitForgot(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    this.pages.checkOrigin(req);
    const email = formValue(req.body, 'email').trim();
    const invalid = await this.pages.validate(PasswordResetDto, { email });
    if (invalid) {
      sendPage(
        res,
        400,
        'Reset your password',
        forgotPasswordPage({ email: email.slice(0, 254), errors: invalid }),
      );
      return;
    }
    this.pages.auth.requestPasswordReset(email);
    sendPage(
      res,
      200,
      'Check your mail',
      checkMailPage({
        heading: 'Check your mail',
        text: `If ${email} belongs to an account, a link to set a new password is on its way. It works once and expires soon.`,
      }),
    );
  }

  @Public()
  @Get('reset-password')
  @ApiOperation({
    operationId: 'showResetPasswordPage',
    summary: 'The form to set a new password from the mailed link (spends nothing)',
  })
  @ApiHtml(200, 'The form')
  @ApiHtml(400, 'A page saying the link is not valid, with a way to ask again')
  @ApiHtml(410, 'A page saying the link is used or expired, with a way to ask again')
  async reset(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const requestId = queryOf(req)['requestId'];
    const state = await this.pages.inspectReset(requestId);
    if (state.state !== 'usable') return send(res, badResetLinkPage(state.state));
    sendPage(
      res,
      200,
      'Set a new password',
      resetPasswordPage({
        requestId: requestId as string,
        email: state.email,
        minLength: this.pages.minPasswordLength,
      }),
    );
  }

  @Public()
  @SignInRateLimit()
  @Post('reset-password')
  @ApiOperation({ operationId: 'submitResetPasswordPage', summary: 'Set the new password' })
  @ApiRedirect(303, 'Changed: to /signin with a notice')
  @ApiHtml(400, 'The form again with the message at the field, or the link is not valid')
  @ApiHtml(403, 'A page refusing a form sent from another site')
  @ApiHtml(410, 'A page saying the link is used or expired, with a way to ask again')
  @ApiHtml(422, 'The form again: the password policy refused the password')
  @ApiProblems(429)
  async submitReset(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    this.pages.checkOrigin(req);
    const requestId = formValue(req.body, 'requestId');
    const state = await this.pages.inspectReset(requestId);
    if (state.state !== 'usable') return send(res, badResetLinkPage(state.state));
    const password = formValue(req.body, 'password');
    const again = (status: number, errors: FormErrors): void =>
      sendPage(
        res,
        status,
        'Set a new password',
        resetPasswordPage({
          requestId,
          email: state.email,
          errors,
          minLength: this.pages.minPasswordLength,
        }),
      );
    const errors = this.pages.newPasswordErrors(password, formValue(req.body, 'passwordConfirm'));
    if (errors) return again(errors['password'] ? statusOfPasswordError(errors) : 400, errors);
    try {
      await this.pages.auth.confirmPasswordReset(requestId, password);
    } catch (e) {
      if (e instanceof AppException && e.errors?.some((x) => x.field === 'requestId')) {
        // Spent by another request in the meantime.
        const now = await this.pages.inspectReset(requestId);
        return send(res, badResetLinkPage(now.state === 'usable' ? 'used' : now.state));
      }
      const r = refusal(e, 'password');
      return again(r.status, r.errors);
    }
    res.redirect('/signin?notice=password-reset', 303);
  }

  // Activation

  @Public()
  @Get('activate')
  @ApiOperation({
    operationId: 'showActivatePage',
    summary: 'The page to activate an account from the mailed link (spends nothing)',
  })
  @ApiHtml(200, 'The page with its button (and password fields for an account without one)')
  @ApiHtml(400, 'A page saying the link is not valid, with a form to send a new one')
  @ApiHtml(410, 'A page saying the link is used or expired, with a form to send a new one')
  async activate(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const token = queryOf(req)['token'];
    const state = await this.pages.inspectActivation(token);
    if (state.state !== 'usable') return send(res, badActivationLinkPage(state.state));
    sendPage(
      res,
      200,
      'Activate your account',
      activatePage({
        token: token as string,
        email: state.email,
        needsPassword: !state.hasPassword,
        minLength: this.pages.minPasswordLength,
      }),
    );
  }

  @Public()
  @SignInRateLimit()
  @Post('activate')
  @ApiOperation({ operationId: 'submitActivatePage', summary: 'Activate the account' })
  @ApiRedirect(303, 'Active: to /signin with a notice')
  @ApiHtml(400, 'The form again with the message at the field, or the link is not valid')
  @ApiHtml(403, 'A page refusing a form sent from another site')
  @ApiHtml(410, 'A page saying the link is used or expired, with a form to send a new one')
  @ApiHtml(422, 'The form again: the password policy refused the password')
  @ApiProblems(429)
  async submitActivate(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    this.pages.checkOrigin(req);
    const token = formValue(req.body, 'token');
    const state = await this.pages.inspectActivation(token);
    if (state.state !== 'usable') return send(res, badActivationLinkPage(state.state));
    let password: string | undefined;
    if (!state.hasPassword) {
      password = formValue(req.body, 'password');
      const errors = this.pages.newPasswordErrors(password, formValue(req.body, 'passwordConfirm'));
      if (errors) {
        sendPage(
          res,
          errors['password'] ? statusOfPasswordError(errors) : 400,
          'Activate your account',
          activatePage({
            token,
            email: state.email,
            needsPassword: true,
            errors,
            minLength: this.pages.minPasswordLength,
          }),
        );
        return;
      }
    }
    try {
      await this.pages.auth.activate(token, password);
    } catch (e) {
      if (e instanceof AppException && e.errors?.some((x) => x.field === 'token')) {
        const now = await this.pages.inspectActivation(token);
        return send(res, badActivationLinkPage(now.state === 'usable' ? 'used' : now.state));
      }
      throw e;
    }
    res.redirect('/signin?notice=activated', 303);
  }

  @Public()
  @SignInRateLimit()
  @Post('activate/resend')
  @ApiOperation({
    operationId: 'submitActivationResendPage',
    summary: 'Mail a new activation link to a pending account',
  })
  @ApiHtml(200, 'The same answer whether or not the email is known')
  @ApiHtml(400, 'The form again: the email is not valid')
  @ApiHtml(403, 'A page refusing a form sent from another site')
  @ApiProblems(429)
  async resend(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    this.pages.checkOrigin(req);
    const email = formValue(req.body, 'email').trim();
    const invalid = await this.pages.validate(PasswordResetDto, { email });
    if (invalid) {
      const page = badActivationLinkPage('resend', {
        email: email.slice(0, 254),
        errors: invalid,
      });
      sendPage(res, 400, 'Send a new activation link', page.body);
      return;
    }
    this.pages.links.requestActivationLink(email);
    sendPage(
      res,
      200,
      'Check your mail',
      checkMailPage({
        heading: 'Check your mail',
        text: `If ${email} belongs to an account waiting for activation, a new link is on its way.`,
      }),
    );
  }
}

/** 422 when the policy refused the password, 400 when it could not be read. */
function statusOfPasswordError(errors: FormErrors): number {
  return /at least|breached/.test(errors['password'] ?? '') ? 422 : 400;
}
