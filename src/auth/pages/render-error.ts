import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { SignInError } from '#src/auth/oidc/sign-in-error.js';
import { errorPage, sendPage } from '#src/auth/pages/html.js';

const logger = new Logger('SignIn');

/** The error page for a failed sign-in step; unexpected errors are logged and shown generically. */
export function renderSignInError(res: Response, err: unknown): void {
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
