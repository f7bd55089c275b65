import { connect, type Socket } from 'node:net';

/**
 * The load generator's own light HTTP/1.1 client for the sign-in storm and its latency probe.
 *
 * Those two share the machine's two cores with Gatehouse, and what the runner spends on a request
 * is taken from the bcrypt threads the login target is measured against. `node:http` spent about
 * 1 ms of the runner's CPU on each of the probe's requests (50 req/s: 5.3–5.9% of a core); writing
 * a request prepared once and reading only the status line and `content-length` spends 3.0–3.2%
 * (docs/performance.md, "The load generator's share"). autocannon's client is as light, but it has
 * no fixed schedule (see `probe()`).
 *
 * Deliberately narrow: one request at a time per connection; answers framed by `content-length` or
 * by chunks (the peer's), anything else fails the request rather than being misread.
 */

/** A request's bytes, built once and written as they are for every send. */
export function prepareRequest(
  method: 'GET' | 'POST',
  url: URL,
  headers: Record<string, string> = {},
  body?: string,
): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

const HEAD_END = Buffer.from('\r\n\r\n');

const CRLF = Buffer.from('\r\n');

/** Where a chunked body starting at `from` ends (after its trailers), or -1 if not all here yet. */
function chunkedEnd(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return -1;
    const size = parseInt(buf.toString('latin1', at, lineEnd).split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size');
    at = lineEnd + CRLF.length;
    if (size === 0) break;
    at += size + CRLF.length;
    if (at > buf.length) return -1;
  }
  // Trailer fields, then the empty line that ends the message.
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return -1;
    if (lineEnd === at) return at + CRLF.length;
    at = lineEnd + CRLF.length;
  }
}

type Pending = { resolve: (status: number) => void; reject: (err: Error) => void };

/** One keep-alive connection that sends a prepared request and resolves with the answer's status. */
export class PreparedConnection {
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Sends `request` (see prepareRequest) and resolves with the status once the answer has ended. */
  send(request: Buffer): Promise<number> {
    if (this.pending) return Promise.reject(new Error('connection busy'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.timer = setTimeout(() => {
        this.fail(new Error('request timed out'));
        this.close(); // a late answer must not be read as the next request's
      }, this.timeoutMs);
      this.open().write(request);
    });
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = connect(Number(this.url.port || 80), this.url.hostname);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    // Only the current socket's end fails the pending request: one closed by close() is not it.
    socket.on('error', (err) => {
      if (this.socket === socket) this.fail(err);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.fail(new Error('connection closed'));
    });
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    return socket;
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    try {
      this.parse();
    } catch (err) {
      this.fail(err as Error);
      this.close();
    }
  }

  /** Resolves the pending request once `buffered` holds its whole answer. */
  private parse(): void {
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const bodyStart = headEnd + HEAD_END.length;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    let end: number;
    if (length !== undefined) end = bodyStart + Number(length);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head))
      end = chunkedEnd(this.buffered, bodyStart);
    else if (status === 204 || status === 304) end = bodyStart;
    // Failed and closed by read(), as a malformed chunk is.
    else throw new Error(`answer ${status} is framed by neither content-length nor chunks`);
    if (end < 0 || this.buffered.length < end) return;
    this.buffered = this.buffered.subarray(end);
    const pending = this.pending;
    this.pending = null;
    clearTimeout(this.timer);
    pending?.resolve(status);
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = null;
    clearTimeout(this.timer);
    pending?.reject(err);
  }
}
