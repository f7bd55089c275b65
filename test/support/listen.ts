import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A free loopback port (so PUBLIC_URL, the token issuer, can name the origin the app listens on). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
