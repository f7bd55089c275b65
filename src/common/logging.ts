import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { currentRequestId } from '#src/common/request-context.js';

// Paths that must never reach a log line, whatever a caller passes.
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'refreshToken',
  '*.refreshToken',
  'clientSecret',
  '*.clientSecret',
];

/**
 * A request id as a log field, for lines whose request is known but may have no context (routes
 * marked `@NoRequestContext()` or `@HotRead()`, where the mixin below adds nothing).
 */
export function reqIdField(requestId: unknown): { reqId?: string } {
  return typeof requestId === 'string' && requestId !== '' ? { reqId: requestId } : {};
}

/** Fields of every line, the access log's included. */
const BASE = { service: 'gatehouse' };

/**
 * JSON lines to stdout, or to `destination` (tests capture the log this way). A line written while
 * a request is served carries its id as `reqId`.
 */
export function createPino(level: string, destination?: DestinationStream): Pino {
  const options = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: BASE,
    mixin: (): Record<string, string> => {
      const reqId = currentRequestId();
      return reqId ? { reqId } : {};
    },
  };
  return pino(options, destination ?? stdoutDestination());
}

/**
 * A destination that writes the lines of one turn of the event loop together: each line is kept
 * until the turn ends (`setImmediate`), then all of them go to `out` in one write, in the order
 * they were written. Under load that is one system call for the lines of every request answered in
 * a turn, made on the event loop: cheaper than a write handed to libuv's thread pool for every line
 * or two (docs/performance.md, "The log written once a turn"). `flush()` writes what is kept at
 * once (the process's exit does).
 */
export class TurnBatchedStream implements DestinationStream {
  private lines: string[] = [];
  private scheduled = false;
  private readonly flushNow = (): void => {
    this.flush();
  };

  constructor(private readonly out: { write(chunk: string): unknown }) {}

  write(line: string): void {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Writes what is kept now; `done` (pino's `logger.flush(cb)`) is called once it is written. */
  flush(done?: (err?: Error) => void): void {
    this.scheduled = false;
    if (this.lines.length > 0) {
      const chunk = this.lines.join('');
      this.lines = [];
      this.out.write(chunk);
    }
    done?.();
  }
}

let stdout: TurnBatchedStream | null = null;

/**
 * stdout, one write a turn (`TurnBatchedStream`) through a synchronous sonic-boom (pino's own
 * destination, which retries a pipe that is full for the moment and finishes partial writes). One
 * for the process, whatever number of loggers: the lines stay in order, and the exit writes what
 * the last turn kept (an uncaught error or `process.exit()` included).
 */
function stdoutDestination(): DestinationStream {
  if (!stdout) {
    const batched = new TurnBatchedStream(pino.destination({ dest: 1, sync: true }));
    process.on('exit', () => batched.flush());
    stdout = batched;
  }
  return stdout;
}

/** What the access log says of one request. */
export interface AccessEntry {
  reqId: string;
  method: string;
  /** Without the query string. */
  path: string;
  /** Undefined once the socket is gone (a client that left): the field is then left out, as pino does. */
  ip: string | undefined;
  status: number;
  /** Milliseconds, rounded. */
  responseTime: number;
}

/** Writes one request's access line. */
export type AccessLog = (entry: AccessEntry) => void;

/**
 * The access log: one line per request on `log`'s stream, at its level, with its base fields:
 * exactly the line `log.info(entry, 'request')` (or `log.error(..., 'request failed')` for a 5xx)
 * would write, as `{ reqId, req: {id, method, path, ip}, res: {status}, responseTime }`
 * (test/unit/access-log.test.ts compares the two). Its fields are fixed and chosen to hold no
 * secret (method, path without the query, status, ip, time, request id), so the line is written
 * directly: pino's general serialiser (every field's type looked at, the nested objects through
 * its own stringify) cost about 3.8 µs of the 70 to 85 of a cached `GET /users/me`
 * (docs/performance.md).
 */
export function createAccessLog(log: Pino): AccessLog {
  const stream = (log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  if (!stream) throw new Error('the logger has no stream');
  const base = JSON.stringify(BASE).slice(1, -1);
  const info = log.isLevelEnabled('info');
  const error = log.isLevelEnabled('error');
  // pino's numbers for the two levels (30 and 50), from the logger's own table.
  const { info: INFO, error: ERROR } = log.levels.values;
  return (e) => {
    const failed = e.status >= 500;
    if (!(failed ? error : info)) return;
    const id = JSON.stringify(e.reqId);
    stream.write(
      `{"level":${failed ? ERROR : INFO},"time":${Date.now()},${base},"reqId":${id},"req":{"id":${id},"method":${JSON.stringify(e.method)},"path":${JSON.stringify(e.path)}${e.ip === undefined ? '' : `,"ip":${JSON.stringify(e.ip)}`}},"res":{"status":${e.status}},"responseTime":${e.responseTime},"msg":"${failed ? 'request failed' : 'request'}"}\n`,
    );
  };
}

/** Nest's start-up chatter (a line per module and per route) is for debugging, not for operators. */
const DEBUG_CONTEXTS = new Set(['RouterExplorer', 'RoutesResolver', 'InstanceLoader']);

/** Nest's logger interface over pino: structured JSON lines. */
export class PinoLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    params: unknown[],
  ): void {
    const context =
      typeof params[params.length - 1] === 'string'
        ? (params[params.length - 1] as string)
        : undefined;
    if (message && typeof message === 'object') this.pino[level]({ context, ...message });
    else this.pino[level]({ context }, String(message));
  }

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    const level = typeof context === 'string' && DEBUG_CONTEXTS.has(context) ? 'debug' : 'info';
    this.write(level, message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}
