import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { HelloModule, serveHello } from './hello.js';

/**
 * The bare Express reference of the framework ceiling: the hello route on
 * `@nestjs/platform-express` (Nest's default adapter) with no middleware at all (no body parsers,
 * no helmet, no cookies, no request ids), no pipes and no logger: what NestJS on Express costs by
 * itself, the yardstick of the move to Fastify.
 */
serveHello('hello express bare', () =>
  NestFactory.create<NestExpressApplication>(HelloModule, new ExpressAdapter(), {
    logger: false,
    abortOnError: false,
    bodyParser: false,
  }),
);
