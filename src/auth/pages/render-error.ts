import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppException } from '#src/common/errors/app.exception.js';
import { problemFromAppException } from '#src/common/errors/problem.filter.js';
import { SignInError } from '#src/auth/oidc/sign-in-error.js';
import { errorPage, sendPage } from '#src/auth/pages/html.js';

const logger = new Logger('SignIn');

/** The error page for a failed sign-in step; unexpected errors are logged and shown generically. */
export function renderSignInError(res: FastifyReply, err: unknown): void {
  let failure: SignInError;
  if (err instanceof SignInError) {
    failure = err;
    logger.warn({ msg: 'sign-in refused', reason: err.reason, detail: err.message });
  } else {
    failure = new SignInError('internal');
    logger.error({ msg: 'sign-in failed unexpectedly', error: (err as Error)?.message });
  }
  const page = errorPage(failure);
  sendPage(res, page.status, page.title, page.body);
}

/**
 * On browser routes (pages, OIDC redirects): input or a cross-site form refused before the handler
 * is an HTML error page like the handler's own; other refusals keep their problem+json answer.
 */
@Catch(AppException)
export class SignInPageFilter implements ExceptionFilter {
  catch(e: AppException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    if (e.code === 'validation_failed' || e.code === 'csrf_failed') {
      const reason = e.code === 'csrf_failed' ? 'csrf' : 'bad_input';
      renderSignInError(res, new SignInError(reason, e.detail));
      return;
    }
    const problem = problemFromAppException(e);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
