import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { API_PREFIX } from '#src/http-settings.js';
import { loadConfig } from '#src/config/config.js';

/**
 * The bare Fastify reference of the framework ceiling: the same NestJS route as hello-app.ts on a
 * default `FastifyAdapter` (no request ids, no proxy trust, default body limit) with no plugins,
 * hooks, pipes or logger: what NestJS on Fastify costs by itself.
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
  const app = await NestFactory.create<NestFastifyApplication>(HelloModule, new FastifyAdapter(), {
    logger: false,
    abortOnError: false,
  });
  app.setGlobalPrefix(API_PREFIX);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  process.stdout.write(`hello fastify bare listening on ${config.host}:${config.port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hello fastify bare failed: ${String(err)}\n`);
  process.exit(1);
});
