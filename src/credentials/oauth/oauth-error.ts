import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppException } from '#src/common/errors/app.exception.js';
import { problemFromAppException } from '#src/common/errors/problem.filter.js';

export type OAuthErrorCode =
  'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_client';

const OAUTH_ERROR_CODES: readonly OAuthErrorCode[] = [
  'invalid_request',
  'invalid_grant',
  'unsupported_grant_type',
  'invalid_client',
];

/** The body of an OAuth token endpoint error (RFC 6749 section 5.2), as OAuthErrorFilter writes it. */
export class OAuthErrorBody {
  @ApiProperty({ enum: OAUTH_ERROR_CODES }) error!: OAuthErrorCode;
  @ApiPropertyOptional() error_description?: string;
}

/**
 * Errors of the OAuth token endpoint, answered in RFC 6749 section 5.2 form
 * (`{error, error_description}`) rather than problem+json, so standard OAuth clients understand them.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  get status(): number {
    return this.error === 'invalid_client' ? 401 : 400;
  }
}

/** OAuth errors, and input refused before the handler (unsafe input: invalid_request). */
@Catch(OAuthError, AppException)
export class OAuthErrorFilter implements ExceptionFilter {
  catch(e: OAuthError | AppException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    res.header('Cache-Control', 'no-store');
    res.header('Pragma', 'no-cache');
    if (e instanceof AppException && e.code !== 'validation_failed') {
      // Not an OAuth error (a database outage, say): the ordinary problem answer.
      const problem = problemFromAppException(e);
      res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
      return;
    }
    const err = e instanceof AppException ? new OAuthError('invalid_request', e.detail) : e;
    res.status(err.status).send({ error: err.error, error_description: err.description });
  }
}
