import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { addressAllowed, hostOf, pinnedLookup, TargetRefused } from '#src/webhooks/target-guard.js';

/** Connecting (DNS, TCP, TLS) may take this long. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** The whole request, answer included, may take this long. */
export const RESPONSE_TIMEOUT_MS = 10_000;
/** At most this much of an answer is read (and none of it kept). */
export const RESPONSE_BODY_LIMIT = 64 * 1024;

export interface SendResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * One POST of a signed event. Redirects are not followed (a 3xx is a failed attempt), the socket
 * connects only to a checked address, and slow or chatty receivers are cut off.
 */
export function sendEvent(
  target: string,
  headers: Record<string, string>,
  body: string,
  opts: { allowPrivate: boolean; signal?: AbortSignal },
): Promise<SendResult> {
  const started = Date.now();
  const done = (statusCode: number | null, error: string | null): SendResult => ({
    statusCode,
    error,
    durationMs: Date.now() - started,
  });
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      resolve(done(null, 'invalid URL'));
      return;
    }
    const host = hostOf(url);
    // An IP literal is not looked up: check it here.
    if (isIP(host) && !addressAllowed(host, opts.allowPrivate)) {
      resolve(done(null, `refused: ${host} is a private or reserved address`));
      return;
    }
    if (url.protocol !== 'https:' && !(opts.allowPrivate && url.protocol === 'http:')) {
      resolve(done(null, 'refused: not an https URL'));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (r: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(connect);
      resolve(r);
    };
    const req = send(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Gatehouse-Webhooks/1',
      },
      lookup: pinnedLookup(opts.allowPrivate),
      agent: false,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const overall = setTimeout(() => {
      req.destroy(new Error(`no answer within ${RESPONSE_TIMEOUT_MS} ms`));
    }, RESPONSE_TIMEOUT_MS);
    const connect = setTimeout(() => {
      req.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    req.on('socket', (socket) => {
      // TLS counts as part of connecting.
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () =>
        clearTimeout(connect),
      );
    });
    req.on('error', (err) => {
      const message =
        err instanceof TargetRefused || (err as { cause?: unknown }).cause instanceof TargetRefused
          ? `refused: ${err.message}`
          : err.message;
      finish(done(null, message.slice(0, 500)));
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > RESPONSE_BODY_LIMIT) res.destroy();
      });
      const end = (): void =>
        finish(
          done(
            status,
            status >= 200 && status < 300
              ? null
              : status >= 300 && status < 400
                ? `redirect (${status}) not followed`
                : `answered ${status}`,
          ),
        );
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
    });
    req.end(body);
  });
}
