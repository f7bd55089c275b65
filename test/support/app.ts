import { recordRoutes } from './routes.js';
import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { createApp } from '#src/bootstrap.js';
import { loadConfig, type AppConfig } from '#src/config/config.js';
import { freePort } from './listen.js';
import { provisionDatabase } from './database.js';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  http: TestAgent;
  db: DataSource;
  /** The origin a browser on our own site sends (needed for cookie-authenticated writes). */
  origin: string;
  get<T>(token: new (...args: never[]) => T): T;
  close(): Promise<void>;
}

export const TEST_PUBLIC_URL = 'http://127.0.0.1:3000';

/** The whole application on a fresh database with the real migrations; env overrides per test file. */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { logDestination?: DestinationStream } = {},
): Promise<TestApp> {
  const database = await provisionDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
    BCRYPT_COST: '4',
    RATE_LIMIT_SIGNIN: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PUBLIC_URL: TEST_PUBLIC_URL,
    REGISTRATION: 'open',
    ...env,
  });
  const app = await createApp(config, options);
  recordRoutes(app);
  await app.init();
  // supertest talks to the Node server: Fastify's routes and plugins must be ready first.
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    config,
    http: request(app.getHttpServer()),
    db: app.get(DataSource),
    origin: new URL(TEST_PUBLIC_URL).origin,
    get: <T>(token: new (...args: never[]) => T) => app.get(token),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

/**
 * An app listening on a free loopback port whose PUBLIC_URL is that address: the OpenID
 * Provider's issuer, discovery and redirects must be reachable by real clients.
 */
export async function createListeningTestApp(
  env: Record<string, string> = {},
): Promise<{ t: TestApp; origin: string }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ PUBLIC_URL: origin, ...env });
  await t.app.listen(port, '127.0.0.1');
  return { t, origin };
}
