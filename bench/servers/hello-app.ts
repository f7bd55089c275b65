import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { API_PREFIX, configureHttp, createHttpAdapter } from '#src/http-settings.js';
import { createPino, PinoLogger } from '#src/common/logging.js';
import { loadConfig } from '#src/config/config.js';

/**
 * The framework ceiling: a bare NestJS route on the same HTTP adapter (Fastify), the same plugins
 * and hooks (request id, access log, helmet, cookies, body parsers, validation pipe), the same
 * prefix and the same logger at the same level as Gatehouse. No database, no guard, no metrics.
 */
@Controller('hello')
class HelloController {
  @Get()
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

@Module({ controllers: [HelloController] })
class HelloModule {}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new PinoLogger(createPino(config.logLevel));
  const app = await NestFactory.create<NestFastifyApplication>(
    HelloModule,
    createHttpAdapter(config),
    { logger, abortOnError: false },
  );
  await configureHttp(app, config, logger.pino);
  app.setGlobalPrefix(API_PREFIX);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  process.stdout.write(`hello app listening on ${config.host}:${config.port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hello app failed: ${String(err)}\n`);
  process.exit(1);
});
