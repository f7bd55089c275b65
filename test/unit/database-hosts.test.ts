import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { loadConfig, parseMysqlUrl } from '#src/config/config.js';
import { HostRing } from '#src/database/failover.js';
import { freePort } from '../support/listen.js';

const SECRET = 'test-secret-key-test-secret-key-0123456789';

describe('DATABASE_URL with several hosts', () => {
  it('parses every host in order, with default ports and bracketed IPv6', () => {
    assert.deepEqual(parseMysqlUrl('mysql://u:p%40ss@h1:4306,h2,[::1]:4308/gate'), {
      type: 'mysql',
      url: 'mysql://u:p%40ss@h1:4306,h2,[::1]:4308/gate',
      host: 'h1',
      port: 4306,
      hosts: [
        { host: 'h1', port: 4306 },
        { host: 'h2', port: 3306 },
        { host: '::1', port: 4308 },
      ],
      user: 'u',
      password: 'p@ss',
      database: 'gate',
    });
  });

  it('refuses a host list with an empty or malformed entry, naming DATABASE_URL', () => {
    for (const bad of ['mysql://u@h1:1,,h2/db', 'mysql://u@h1:x/db', 'mysql://u@h1,h2/']) {
      assert.throws(
        () => loadConfig({ NODE_ENV: 'test', SECRET_KEY: SECRET, DATABASE_URL: bad }),
        /DATABASE_URL/,
        bad,
      );
    }
  });
});

describe('HostRing failover', () => {
  it('connects to the next host when the preferred one refuses, and prefers that one afterwards', async () => {
    const closedPort = await freePort(); // nothing listens there
    const server: Server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const livePort = (server.address() as { port: number }).port;
    try {
      const ring = new HostRing(
        [
          { host: '127.0.0.1', port: closedPort },
          { host: '127.0.0.1', port: livePort },
        ],
        2000,
      );
      const reached = await new Promise<number>((resolve, reject) =>
        ring.open((socket, host) => {
          socket.destroy();
          resolve(host.port);
        }, reject),
      );
      assert.equal(reached, livePort);
      assert.equal(ring.current.port, livePort, 'the live host is preferred from now on');
      assert.ok(ring.lastFailure.has(`127.0.0.1:${closedPort}`));
    } finally {
      server.close();
    }
  });

  it('fails with the last error when no host answers', async () => {
    const ring = new HostRing(
      [
        { host: '127.0.0.1', port: await freePort() },
        { host: '127.0.0.1', port: await freePort() },
      ],
      2000,
    );
    const err = await new Promise<Error>((resolve) =>
      ring.open(
        () => resolve(new Error('connected')),
        (e) => resolve(e),
      ),
    );
    assert.equal((err as { code?: string }).code, 'ECONNREFUSED');
  });
});
