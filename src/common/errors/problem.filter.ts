import { requestPath } from '#src/common/http/request.js';
import { SCIM_CONTENT_TYPE, ScimException } from '#src/common/errors/scim-error.js';
import {
  ArgumentsHost,
  Catch,
  HttpException,
  Logger,
  Optional,
  type ExceptionFilter,
} from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { reqIdField } from '#src/common/logging.js';
import { Database, isNodeNotReady, isTransientConflict } from '#src/database/database.service.js';
import { errorStatusPage, isMachinePath, sendPage } from '#src/common/http/html.js';
import { AppException, type ErrorCode, type FieldError } from '#src/common/errors/app.exception.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [key: string]: unknown;
}

function statusOf(code: ErrorCode): { status: number; title: string } {
  switch (code) {
    case 'validation_failed':
      return { status: 400, title: 'Invalid input' };
    case 'unauthenticated':
      return { status: 401, title: 'Not authenticated' };
    case 'forbidden':
      return { status: 403, title: 'Forbidden' };
    case 'csrf_failed':
      return { status: 403, title: 'Cross-site request refused' };
    case 'not_found':
      return { status: 404, title: 'Not found' };
    case 'conflict':
      return { status: 409, title: 'Conflict' };
    case 'rule_refused':
      return { status: 422, title: 'Refused by a rule' };
    case 'payload_too_large':
      return { status: 413, title: 'Payload too large' };
    case 'throttled':
      return { status: 429, title: 'Too many requests' };
    case 'unavailable':
      return { status: 503, title: 'Service unavailable' };
    // Nobody reads this answer: the status (nginx's "client closed request") is for the access log
    // and the metrics.
    case 'client_gone':
      return { status: 499, title: 'Client closed request' };
  }
}

const typeBase = 'https://gatehouse.dev/problems/';

export function problemFromAppException(e: AppException): Problem {
  const { status, title } = statusOf(e.code);
  return {
    type: `${typeBase}${e.code.replace(/_/g, '-')}`,
    title,
    status,
    detail: e.detail,
    ...(e.errors ? { errors: e.errors } : {}),
    ...(e.extra ?? {}),
  };
}

const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ECONNRESET',
  'SQLITE_BUSY',
  'POOL_ACQUIRE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
]);
/**
 * Server errors that say the server or its cluster, not the statement, is the problem: a commit
 * that failed in the storage or replication layer (1180, what a Galera node answers when the
 * cluster's membership changes under a commit), a statement or connection killed by the server
 * (1317, 1927), a connection aborted or broken on the server's side (1152, 1158 to 1161), the
 * server shutting down (1053) or refusing connections (1040).
 */
const DB_DOWN_ERRNOS = new Set([1040, 1053, 1152, 1158, 1159, 1160, 1161, 1180, 1317, 1927]);
// Driver messages for a pool or handle that is closed (no error code is set for these).
const DB_DOWN_MESSAGES =
  /connection is not open|pool is closed|connection is not established|connection is in closed state/i;

/** True for an error that says the database (or the way to it) is away, not that the request is wrong. */
export function isDbDown(err: unknown): boolean {
  const e = (err ?? {}) as {
    code?: string;
    errno?: number;
    fatal?: boolean;
    message?: string;
    driverError?: unknown;
  };
  if (DB_DOWN_CODES.has(e.code ?? '') || DB_DOWN_MESSAGES.test(e.message ?? '')) return true;
  // mysql2 marks an error fatal when its connection is gone (a socket or stream error, a protocol
  // error): whatever the code, the statement never ran to an answer.
  if (e.fatal === true || DB_DOWN_ERRNOS.has(e.errno ?? 0)) return true;
  if (isNodeNotReady(err)) return true; // a Galera node outside the primary component
  return e.driverError !== undefined && e.driverError !== err && isDbDown(e.driverError);
}

/**
 * RFC 6750 section 3: every 401 names the Bearer scheme; `error="invalid_token"` when a credential
 * was presented (and refused), no error code when none was.
 */
export function bearerChallenge(req: FastifyRequest, detail: string): string {
  const presented =
    req.headers.authorization !== undefined ||
    (req as { cookies?: Record<string, string> }).cookies?.['gh_session'] !== undefined;
  if (!presented) return 'Bearer realm="gatehouse"';
  const description = detail.replace(/["\\\x00-\x1f\x7f-\uffff]/g, '').slice(0, 200);
  return `Bearer realm="gatehouse", error="invalid_token", error_description="${description}"`;
}

/** Every error leaves as RFC 9457 problem+json; unexpected ones as a 500 with a correlation id only. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(@Optional() private readonly db?: Database) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    this.answer(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>());
  }

  /** Answers the error on the reply: the SCIM schema, an HTML page or problem+json by path. */
  answer(exception: unknown, req: FastifyRequest, res: FastifyReply): void {
    const problem = this.toProblem(exception, req);
    if (res.sent) return;
    const path = requestPath(req);
    // A SCIM request refused before its controller (a body too large or not JSON): SCIM's schema.
    if (path === '/scim/v2' || path.startsWith('/scim/v2/')) {
      const scim = ScimException.fromProblem(problem);
      if (problem.status === 503) res.header('Retry-After', '1');
      res.status(scim.status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(scim.body()));
      return;
    }
    // Paths for people (pages, unknown addresses) answer an HTML page; the API keeps problem+json.
    if (!isMachinePath(path)) {
      const page = errorStatusPage(problem);
      sendPage(res, problem.status, page.title, page.body);
      return;
    }
    if (problem.status === 401 && !res.hasHeader('WWW-Authenticate'))
      res.header('WWW-Authenticate', bearerChallenge(req, problem.detail));
    // Every 503 is momentary (database away or busy, a dependency down): say when to come back.
    if (problem.status === 503 && !res.hasHeader('Retry-After')) res.header('Retry-After', '1');
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  toProblem(exception: unknown, req: FastifyRequest): Problem {
    if (exception instanceof AppException) return problemFromAppException(exception);
    if (exception instanceof ThrottlerException) {
      return problemFromAppException(
        new AppException('throttled', 'Too many requests; retry later.'),
      );
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 413) {
        return problemFromAppException(
          new AppException('payload_too_large', 'The request body exceeds 100 KiB.'),
        );
      }
      if (status === 404) return problemFromAppException(AppException.notFound('Route'));
      if (status === 400) {
        // Fastify's JSON parser refused the body (a SyntaxError, or its own error code).
        const cause = exception.cause as { code?: string; name?: string } | undefined;
        const badJson =
          cause?.name === 'SyntaxError' ||
          cause?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
          cause?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
        return problemFromAppException(
          new AppException(
            'validation_failed',
            badJson ? 'The request body is not valid JSON.' : 'The request could not be read.',
          ),
        );
      }
      if (status < 500) {
        return { type: 'about:blank', title: exception.message, status, detail: exception.message };
      }
      if (status === 503) {
        // Readiness (terminus) failing: keep which check failed, nothing more.
        const body = exception.getResponse() as { details?: unknown };
        return {
          ...problemFromAppException(
            new AppException('unavailable', 'A dependency is unavailable; retry later.'),
          ),
          ...(body && typeof body === 'object' && body.details ? { checks: body.details } : {}),
        };
      }
    }
    if (isTransientConflict(exception)) {
      // Still deadlocked, refused certification or waiting for a lock after the transaction
      // helper's retries: the server's momentary state (a Galera node leaving, a hot row), not a
      // conflict the caller must resolve, so 503 with Retry-After like an unavailable database.
      this.logger.warn({
        msg: 'transaction conflict after retries',
        ...reqIdField(req.headers['x-request-id']),
        error: (exception as Error)?.message,
      });
      return problemFromAppException(
        new AppException('unavailable', 'Concurrent changes got in the way; retry the request.'),
      );
    }
    if (isDbDown(exception) || (this.db && !this.db.dataSource.isInitialized)) {
      this.logger.warn({
        msg: 'database unavailable',
        ...reqIdField(req.headers['x-request-id']),
        error: (exception as Error)?.message,
      });
      return problemFromAppException(
        new AppException('unavailable', 'The database is unavailable; retry later.'),
      );
    }
    const correlationId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    const err = exception as Error;
    this.logger.error({
      msg: 'unhandled error',
      ...reqIdField(req.headers['x-request-id']),
      correlationId,
      name: err?.name,
      message: err?.message,
      stack: err?.stack,
    });
    return {
      type: `${typeBase}internal`,
      title: 'Internal error',
      status: 500,
      detail: 'Something went wrong on our side.',
      correlationId,
    };
  }
}
