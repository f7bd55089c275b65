import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '#src/common/errors/app.exception.js';
import { ProblemFilter } from '#src/common/errors/problem.filter.js';
import { SCIM_CONTENT_TYPE, ScimException } from '#src/common/errors/scim-error.js';

function fromAppException(e: AppException): ScimException {
  switch (e.code) {
    case 'validation_failed':
      return new ScimException(400, e.detail, 'invalidValue');
    case 'unauthenticated':
      return new ScimException(401, e.detail);
    case 'forbidden':
    case 'csrf_failed':
      return new ScimException(403, e.detail);
    case 'not_found':
      return new ScimException(404, e.detail);
    case 'conflict':
      return new ScimException(409, e.detail, 'uniqueness');
    case 'rule_refused':
      return new ScimException(400, e.detail);
    case 'payload_too_large':
      return new ScimException(413, e.detail);
    case 'throttled':
      return new ScimException(429, e.detail);
    case 'unavailable':
      return new ScimException(503, e.detail);
    case 'client_gone':
      return new ScimException(499, e.detail);
  }
}

/**
 * Every /scim/v2 answer that is an error uses the SCIM error schema (RFC 7644 §3.12), 401 and 500
 * included. Errors that are not the SCIM module's own are first judged by the problem filter (so a
 * database outage is a 503 and an unexpected error a 500 with a correlation id), then re-shaped.
 */
@Catch()
export class ScimExceptionFilter implements ExceptionFilter {
  private readonly problems = new ProblemFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<FastifyRequest>();
    const e = this.toScim(exception, req);
    if (res.sent) return;
    for (const [k, v] of Object.entries(e.headers)) res.header(k, v);
    res.status(e.status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(e.body()));
  }

  toScim(exception: unknown, req: FastifyRequest): ScimException {
    if (exception instanceof ScimException) return exception;
    if (exception instanceof AppException) return fromAppException(exception);
    return ScimException.fromProblem(this.problems.toProblem(exception, req));
  }
}
