import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { API_PREFIX } from '#src/http-settings.js';
import { loadConfig } from '#src/config/config.js';

/**
 * The bare Express reference of the framework ceiling: the same NestJS route as hello-app.ts on
 * `@nestjs/platform-express` (Nest's default adapter) with no middleware at all (no body parsers,
 * no helmet, no cookies, no request ids), no pipes and no logger: what NestJS on Express costs by
 * itself, the yardstick of the move to Fastify.
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
  const app = await NestFactory.create<NestExpressApplication>(HelloModule, new ExpressAdapter(), {
    logger: false,
    abortOnError: false,
    bodyParser: false,
  });
  app.setGlobalPrefix(API_PREFIX);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  process.stdout.write(`hello express bare listening on ${config.host}:${config.port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hello express bare failed: ${String(err)}\n`);
  process.exit(1);
});
