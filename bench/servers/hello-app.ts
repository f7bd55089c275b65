import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureHttp, createHttpAdapter } from '#src/http-settings.js';
import { createPino, PinoLogger } from '#src/common/logging.js';
import { HelloModule, serveHello } from './hello.js';

/**
 * The framework ceiling: the hello route on the same HTTP adapter (Fastify), the same plugins and
 * hooks (request id, access log, helmet, cookies, body parsers, validation pipe), the same prefix
 * and the same logger at the same level as Gatehouse. No database, no guard, no metrics.
 */
serveHello('hello app', async (config) => {
  const logger = new PinoLogger(createPino(config.logLevel));
  const app = await NestFactory.create<NestFastifyApplication>(
    HelloModule,
    createHttpAdapter(config),
    { logger, abortOnError: false },
  );
  await configureHttp(app, config, logger.pino);
  return app;
});
