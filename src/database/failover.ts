import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

export interface DbHost {
  host: string;
  port: number;
}

/**
 * Host failover for a cluster URL (mysql://u@h1:3306,h2:3306,h3:3306/db). mysql2 connects to one
 * host; its `stream` option accepts a factory, so each new connection gets a FailoverStream that
 * tries the preferred host first and, when the TCP connection is refused or times out, the next
 * ones in order. A host that failed (or answered "WSREP not ready", see `markDown`) stops being
 * preferred: every later connection starts at the next host, so the pool moves to a live node
 * while the connections it already holds to the lost node fail once and are discarded.
 */
export class HostRing {
  private preferred = 0;
  /** When each host was last seen failing (ms since epoch), for readiness. */
  readonly lastFailure = new Map<string, number>();

  constructor(
    readonly hosts: DbHost[],
    private readonly connectTimeoutMs: number,
  ) {}

  static key(h: DbHost): string {
    return `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;
  }

  get current(): DbHost {
    return this.hosts[this.preferred] as DbHost;
  }

  /** A connection to `host` failed or the node left the cluster: prefer the next host. */
  markDown(host: DbHost): void {
    this.lastFailure.set(HostRing.key(host), Date.now());
    const i = this.hosts.findIndex((h) => h.host === host.host && h.port === host.port);
    if (i === this.preferred) this.preferred = (i + 1) % this.hosts.length;
  }

  stream(): FailoverStream {
    return new FailoverStream(this);
  }

  /** Tries the hosts from the preferred one on; calls back with the first socket that connects. */
  open(
    onSocket: (socket: Socket, host: DbHost) => void,
    onFail: (err: Error) => void,
    start = this.preferred,
    tried = 0,
  ): void {
    const host = this.hosts[start % this.hosts.length] as DbHost;
    const socket = connect(host.port, host.host);
    const timer = setTimeout(
      () =>
        socket.destroy(
          Object.assign(new Error(`connect ETIMEDOUT ${HostRing.key(host)}`), {
            code: 'ETIMEDOUT',
          }),
        ),
      this.connectTimeoutMs,
    );
    const failed = (err: Error): void => {
      clearTimeout(timer);
      this.markDown(host);
      if (tried + 1 < this.hosts.length) this.open(onSocket, onFail, start + 1, tried + 1);
      else onFail(err);
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', failed);
      onSocket(socket, host);
    });
  }
}

/** A duplex stream in front of the socket HostRing finds; mysql2 reads and writes it like a socket. */
export class FailoverStream extends Duplex {
  private socket: Socket | null = null;
  private pending: { chunk: Buffer; cb: (err?: Error | null) => void }[] = [];
  host: DbHost | null = null;

  constructor(readonly ring: HostRing) {
    super();
    ring.open(
      (socket, host) => {
        if (this.destroyed) {
          socket.destroy();
          return;
        }
        this.socket = socket;
        this.host = host;
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 0);
        socket.on('data', (d: Buffer) => {
          if (!this.push(d)) socket.pause();
        });
        socket.on('end', () => this.push(null));
        socket.on('error', (err) => this.destroy(err));
        socket.on('close', () => this.destroy());
        for (const p of this.pending.splice(0)) socket.write(p.chunk, p.cb);
        this.emit('connect');
      },
      (err) => this.destroy(err),
    );
  }

  override _read(): void {
    this.socket?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket) this.socket.write(chunk, cb);
    else this.pending.push({ chunk, cb });
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.socket) this.socket.end(cb);
    else cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket?.destroy();
    cb(err);
  }

  // mysql2 calls these on its socket.
  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }
}

const rings = new Map<string, HostRing>();

/** One ring per configured host list, shared by the pool, the start-up probe and readiness. */
export function hostRing(hosts: DbHost[], connectTimeoutMs: number): HostRing {
  const key = hosts.map((h) => HostRing.key(h)).join(',');
  let ring = rings.get(key);
  if (!ring) {
    ring = new HostRing(hosts, connectTimeoutMs);
    rings.set(key, ring);
  }
  return ring;
}

/** The FailoverStream under a mysql2 connection, if it has one. */
export function failoverStreamOf(conn: unknown): FailoverStream | null {
  const stream = (conn as { stream?: unknown } | null)?.stream;
  return stream instanceof FailoverStream ? stream : null;
}
