import { useContractSerialisers } from '#src/common/http/response-schemas.js';
import { HttpMetrics } from '#src/metrics/http-metrics.js';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule } from '#src/app.module.js';
import { createPino, PinoLogger } from '#src/common/logging.js';
import { createOpenApiDocument } from '#src/common/http/openapi.js';
import { API_PREFIX, configureHttp, createHttpAdapter } from '#src/http-settings.js';
import { OidcProviderService } from '#src/provider/oidc-provider.service.js';
import type { AppConfig } from '#src/config/config.js';
import type { DestinationStream } from 'pino';

export { API_PREFIX };

/** Builds the whole application, configured the same way for the server, the tests and the benchmarks. */
export async function createApp(
  config: AppConfig,
  options: { logDestination?: DestinationStream } = {},
): Promise<NestFastifyApplication> {
  const logger = new PinoLogger(createPino(config.logLevel, options.logDestination));
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createHttpAdapter(config),
    { logger, abortOnError: false },
  );
  await configureHttp(app, config, logger.pino);
  // The OpenID Provider's paths (and its grants at the shared token endpoint), next to Nest's routes.
  const fastify = app.getHttpAdapter().getInstance();
  app.get(HttpMetrics).install(fastify);
  app.get(OidcProviderService).mount(fastify);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      { path: '.well-known/{*rest}', method: RequestMethod.ALL },
      { path: 'signin', method: RequestMethod.ALL },
      { path: 'signin/{*rest}', method: RequestMethod.ALL },
      // The pages for people (src/pages).
      { path: '/', method: RequestMethod.GET },
      { path: 'register', method: RequestMethod.ALL },
      { path: 'forgot-password', method: RequestMethod.ALL },
      { path: 'reset-password', method: RequestMethod.ALL },
      { path: 'activate', method: RequestMethod.ALL },
      { path: 'activate/{*rest}', method: RequestMethod.ALL },
      { path: 'invite', method: RequestMethod.ALL },
      { path: 'scim/v2/{*rest}', method: RequestMethod.ALL },
      { path: 'oidc/{*rest}', method: RequestMethod.ALL },
      { path: 'console', method: RequestMethod.GET },
      { path: 'console/{*rest}', method: RequestMethod.GET },
      { path: 'account', method: RequestMethod.GET },
    ],
  });

  const document = createOpenApiDocument(app, config.publicUrl);
  useContractSerialisers(fastify, document);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/openapi.json',
    useGlobalPrefix: false,
  });
  return app;
}
