import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where the kernel's ephemeral ports (those outgoing connections take) begin (Linux). */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (low) return low;
  } catch {
    // Not Linux: IANA's dynamic range.
  }
  return 49152;
}

const LOWEST = 20_000;

function isFree(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free loopback port (so PUBLIC_URL, the token issuer, can name the origin the app listens on),
 * chosen below the kernel's ephemeral range. The caller listens on it only after building its app
 * (a second or two on MySQL), and a port the kernel had handed out (listen(0)) could meanwhile be
 * given to one of the suite's own outgoing connections as its local port: the MySQL suite failed
 * once with EADDRINUSE that way. Ports outside the range are never handed out to connections, and
 * the random choice keeps the suite's parallel files apart.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const top = low > LOWEST + 1000 ? low : 65535;
  const bottom = low > LOWEST + 1000 ? LOWEST : 1024;
  for (let i = 0; i < 100; i++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free loopback port found between ${bottom} and ${top}`);
}
