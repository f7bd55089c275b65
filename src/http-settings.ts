import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as Pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { createValidationPipe } from '#src/common/validation.js';
import { runWithRequestId } from '#src/common/request-context.js';
import type { AppConfig } from '#src/config/config.js';
import { scimBodyErrors } from '#src/scim/scim-errors.js';

export const API_PREFIX = 'api/v1';
const BODY_LIMIT = '100kb';

/** The caller's `X-Request-Id` when it is a plain token of up to 64 characters, else a new UUID. */
function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

/** The access log line: no query string (mailed links carry tokens there), no headers. */
function pathOf(url: string | undefined): string {
  const path = (url ?? '').split('?')[0] ?? '';
  return path.length > 512 ? `${path.slice(0, 512)}…` : path;
}

/**
 * The HTTP settings every Gatehouse process uses (proxy trust, request ids, the access log, helmet,
 * cookies, body limits, validation). Shared with the benchmark's bare hello-world app so the
 * framework ceiling is measured with the same adapter and middleware.
 */
export function configureHttp(app: NestExpressApplication, config: AppConfig, log: Pino): void {
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // One line per request when its response is finished (or the client went away), with its id.
  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = requestIdOf(req);
        req.headers['x-request-id'] = id;
        res.setHeader('X-Request-Id', id);
        return id;
      },
      wrapSerializers: false,
      serializers: {
        req: (req: IncomingMessage & { id?: unknown; ip?: string }) => ({
          id: req.id,
          method: req.method,
          path: pathOf(req.url),
          ip: req.ip,
        }),
        res: (res: ServerResponse) => ({ status: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      customSuccessMessage: () => 'request',
      customErrorMessage: () => 'request failed',
    }),
  );
  // Everything the request causes (warnings, audit entries) knows its id.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    runWithRequestId(req.headers['x-request-id'] as string, next);
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'", 'http:', 'https:'],
        },
      },
    }),
  );
  app.use(cookieParser());
  // SCIM clients send application/scim+json (RFC 7644 §3.1).
  app.use(express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/scim+json'] }));
  app.use('/scim/v2', scimBodyErrors);
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT }));
  app.useGlobalPipes(createValidationPipe());
}
