import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { createValidationPipe } from '#src/common/validation.js';
import type { AppConfig } from '#src/config/config.js';

export const API_PREFIX = 'api/v1';
const BODY_LIMIT = '100kb';

/**
 * The HTTP settings every Gatehouse process uses (proxy trust, request ids, helmet, cookies, body
 * limits, validation). Shared with the benchmark's bare hello-world app so the framework ceiling is
 * measured with the same adapter and middleware.
 */
export function configureHttp(app: NestExpressApplication, config: AppConfig): void {
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const id =
      typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('X-Request-Id', id);
    next();
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
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT }));
  app.useGlobalPipes(createValidationPipe());
}
