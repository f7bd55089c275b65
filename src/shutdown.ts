import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';

/**
 * The response a connection is answering now: the latest request read from it, until its answer
 * has closed. With HTTP pipelining (rare) only the latest of several gets the shutdown header;
 * the connection still closes once it is idle.
 */
const CURRENT_RESPONSE = Symbol('gatehouse:current-response');
type TrackedSocket = Socket & { [CURRENT_RESPONSE]?: ServerResponse | undefined };

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
  // Counted, not collected: a long-lived Set that every response entered and left kept responses
  // alive across V8's young-generation collections (about 1.3 MB promoted per scavenge under load,
  // a quarter of the hot path's CPU; docs/performance.md). Connections are few and long-lived;
  // each one knows its current response, which is all the signal handler needs.
  let inFlight = 0;
  const connections = new Set<TrackedSocket>();
  let stopping = false;

  server.on('connection', (socket: TrackedSocket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  // Before Fastify sees the request, so the header is there whatever answers it.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    const socket = req.socket as TrackedSocket;
    socket[CURRENT_RESPONSE] = res;
    res.once('close', () => {
      inFlight--;
      if (socket[CURRENT_RESPONSE] === res) socket[CURRENT_RESPONSE] = undefined;
      if (stopping) server.closeIdleConnections();
    });
    if (stopping) res.setHeader('Connection', 'close');
  });

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.log({ msg: 'shutting down', signal, inFlight, timeoutSeconds });
    const timer = setTimeout(() => {
      logger.error({
        msg: 'shutdown timed out; exiting with requests or resources still open',
        timeoutSeconds,
        inFlight,
      });
      exit(1);
    }, timeoutSeconds * 1000);
    timer.unref();
    try {
      for (const socket of connections) {
        const res = socket[CURRENT_RESPONSE];
        if (res && !res.headersSent) res.setHeader('Connection', 'close');
      }
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
