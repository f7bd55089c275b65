import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { HelloModule, serveHello } from './hello.js';

/**
 * The bare Fastify reference of the framework ceiling: the hello route on a default
 * `FastifyAdapter` (no request ids, no proxy trust, default body limit) with no plugins, hooks,
 * pipes or logger: what NestJS on Fastify costs by itself.
 */
serveHello('hello fastify bare', () =>
  NestFactory.create<NestFastifyApplication>(HelloModule, new FastifyAdapter(), {
    logger: false,
    abortOnError: false,
  }),
);
