import 'reflect-metadata';
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
  const db =
    config.database.type === 'sqlite'
      ? `SQLite ${config.database.path}`
      : `MySQL ${config.database.host}:${config.database.port}/${config.database.database}`;
  process.stdout.write(
    `Gatehouse listening on ${where} (public URL ${config.publicUrl}, database ${db})\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`Gatehouse failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
