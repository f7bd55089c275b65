import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';

/**
 * Graceful shutdown of the server process on SIGTERM and SIGINT, in this order:
 * 1. stop accepting connections (the listening socket closes: new connections are refused);
 * 2. close idle keep-alive connections, and answer every request still in flight (or arriving on a
 *    connection already open) with `Connection: close`, so its connection ends after the answer;
 * 3. once the last connection has closed, close the application: Nest's shutdown hooks close the
 *    bcrypt pool, the database and Redis, which the requests in flight needed until then;
 * 4. exit 0. Past `timeoutSeconds`, log and exit 1 instead.
 *
 * Nest's own `enableShutdownHooks()` is not used: it closes the pools before the HTTP server, and
 * re-raises the signal, so the process always ended as killed (143).
 */
export function installGracefulShutdown(
  app: INestApplication,
  timeoutSeconds: number,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  const logger = new Logger('Shutdown');
  const server = app.getHttpServer() as Server;
  const inFlight = new Set<ServerResponse>();
  let stopping = false;

  // Before Express sees the request, so the header is there whatever answers it.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (stopping) server.closeIdleConnections();
    });
    if (stopping) res.setHeader('Connection', 'close');
  });

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.log({ msg: 'shutting down', signal, inFlight: inFlight.size, timeoutSeconds });
    const timer = setTimeout(() => {
      logger.error({
        msg: 'shutdown timed out; exiting with requests or resources still open',
        timeoutSeconds,
        inFlight: inFlight.size,
      });
      exit(1);
    }, timeoutSeconds * 1000);
    timer.unref();
    try {
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await app.close();
      clearTimeout(timer);
      logger.log({ msg: 'shut down', ms: Date.now() - started });
      exit(0);
    } catch (err) {
      clearTimeout(timer);
      logger.error({ msg: 'shutdown failed', error: (err as Error).message });
      exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, (s: NodeJS.Signals) => void shutdown(s));
  }
}
