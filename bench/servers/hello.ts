import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { API_PREFIX } from '#src/http-settings.js';
import { NoRequestContext } from '#src/common/request-context.js';
import { loadConfig, type AppConfig } from '#src/config/config.js';

@Controller('hello')
class HelloController {
  // Served as Gatehouse serves its hot read routes (GET /users/me), without a request context: the
  // F+plugins reference then costs what such a route's settings cost. The other references ignore it.
  @NoRequestContext()
  @Get()
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

/** The framework-ceiling references' one route: GET /api/v1/hello answering a small JSON body. */
@Module({ controllers: [HelloController] })
export class HelloModule {}

/**
 * Serves a reference app (made by `create` from the settings) on PORT and HOST under the API
 * prefix, as Gatehouse is, and says so on stdout.
 */
export function serveHello(
  name: string,
  create: (config: AppConfig) => Promise<INestApplication>,
): void {
  const run = async (): Promise<void> => {
    const config = loadConfig();
    const app = await create(config);
    app.setGlobalPrefix(API_PREFIX);
    app.enableShutdownHooks();
    await app.listen(config.port, config.host);
    process.stdout.write(`${name} listening on ${config.host}:${config.port}\n`);
  };
  run().catch((err: unknown) => {
    process.stderr.write(`${name} failed: ${String(err)}\n`);
    process.exit(1);
  });
}
