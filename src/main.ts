import '#src/runtime-flags.js';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from '#src/bootstrap.js';
import { ConfigError, loadConfig, loadDotEnv } from '#src/config/config.js';
import { installGracefulShutdown } from '#src/shutdown.js';

async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  installGracefulShutdown(app, config.shutdownTimeoutSeconds);
  const where = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  const database =
    config.database.type === 'sqlite'
      ? `sqlite:${config.database.path}`
      : `mysql://${config.database.hosts.map((h) => `${h.host}:${h.port}`).join(',')}/${config.database.database}`;
  // A JSON line like every other (no credentials: the database URL without user and password).
  new Logger('Gatehouse').log({
    msg: `Gatehouse listening on ${where}`,
    url: where,
    publicUrl: config.publicUrl,
    database,
    redis: config.redisUrl !== null,
    nodeEnv: config.nodeEnv,
    node: process.version,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`Gatehouse failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
