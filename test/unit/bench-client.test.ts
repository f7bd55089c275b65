import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { combine, probe, storm, type ProbeResult } from '../../bench/lib/load.js';
import { PreparedConnection, prepareRequest } from '../../bench/lib/prepared-http.js';

// The benchmark's own client (bench/lib/prepared-http.ts) and the sign-in storm's window: what the
// login target and the probe's p99 are computed from.
describe('the benchmark client', () => {
  let server: Server;
  let base: URL;
  const received: { method: string; url: string; body: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', body });
        if (req.url === '/chunked') {
          // Split across writes (and so, usually, packets), with a body larger than one read.
          res.writeHead(201);
          res.write('first;');
          setTimeout(() => res.end('x'.repeat(70_000)), 10);
        } else if (req.url === '/empty') {
          res.writeHead(204).end();
        } else if (req.url === '/slow') {
          setTimeout(() => res.writeHead(200, { 'content-length': '2' }).end('ok'), 20);
        } else {
          res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-length': '5' }).end('hello');
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  it('sends prepared requests on one connection and reads each framing', async () => {
    received.length = 0;
    const c = new PreparedConnection(base, 5_000);
    try {
      const post = prepareRequest('POST', new URL('/len?x=1', base), { 'x-a': 'b' }, '{"é":1}');
      assert.equal(await c.send(post), 200);
      assert.deepEqual(received[0], { method: 'POST', url: '/len?x=1', body: '{"é":1}' });
      assert.equal(await c.send(prepareRequest('GET', new URL('/chunked', base))), 201);
      assert.equal(await c.send(prepareRequest('GET', new URL('/empty', base))), 204);
      assert.equal(await c.send(prepareRequest('GET', new URL('/missing', base))), 404);
      assert.equal(await c.send(prepareRequest('GET', new URL('/len', base))), 200);
      assert.equal(received.length, 5);
    } finally {
      c.close();
    }
  });

  it('fails an answer framed by neither content-length nor chunks, never misreads it', async () => {
    // Written by hand: Node's HTTP server frames every keep-alive answer. The first connection
    // gets an unframed answer, the next ones a framed one.
    let connections = 0;
    const raw = createNetServer((socket) => {
      const first = ++connections === 1;
      socket.on('data', () => {
        if (first) socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil close');
        else socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    raw.listen(0, '127.0.0.1');
    await new Promise((resolve) => raw.once('listening', resolve));
    const url = new URL(`http://127.0.0.1:${(raw.address() as AddressInfo).port}/`);
    const c = new PreparedConnection(url, 5_000);
    try {
      await assert.rejects(
        c.send(prepareRequest('GET', url)),
        /framed by neither content-length nor chunks/,
      );
      // The failed connection is replaced; the old socket's close does not fail the next request.
      assert.equal(await c.send(prepareRequest('GET', url)), 202);
      assert.equal(await c.send(prepareRequest('GET', url)), 202);
      assert.equal(connections, 2);
    } finally {
      c.close();
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('probe: one request per due time, each answer counted once', async () => {
    const r = await probe({
      url: new URL('/len', base).href,
      seconds: 0.5,
      rate: 40,
      connections: 2,
    });
    assert.equal(r.total, 20);
    assert.equal(r.ok, 20);
    assert.equal(r.errors, 0);
    assert.ok(r.p99 >= r.p50 && r.max >= r.p99);
  });

  it('storm: counts only the answers that end in the window after the warm-up', async () => {
    received.length = 0;
    const run = storm({
      url: new URL('/slow', base).href,
      body: { username: 'u', password: 'p' },
      connections: 2,
      warmupSeconds: 0.4,
      seconds: 0.6,
    });
    let opened = false;
    void run.measuring.then(() => (opened = true));
    await run.closed;
    assert.ok(opened, 'the window opened before it closed');
    const sentBeforeClose = received.length;
    const r = await run.done;
    assert.equal(r.errors, 0);
    assert.equal(r.non2xx, 0);
    // Every request was answered (the storm waits for those in flight), but the warm-up's answers
    // (about 40 of 20 ms each on two connections in 0.4 s) are not counted. Counts only, no clock
    // compared: a busy machine must not fail this.
    assert.ok(r.total >= 5, `window answers: ${r.total}`);
    assert.ok(sentBeforeClose >= r.total + 5, `${sentBeforeClose} sent, ${r.total} counted`);
    // No request is sent after the window: at most one per connection was still in flight.
    assert.ok(
      received.length <= sentBeforeClose + 2,
      `${received.length} after ${sentBeforeClose}`,
    );
    assert.equal(r.rps, r.ok / 0.6);
    assert.equal(received[0]?.body, '{"username":"u","password":"p"}');
  });

  it("combines the sign-in storm's rounds: counts and seconds summed, percentiles of all answers", () => {
    const run = (latencies: number[], non2xx: number, seconds: number): ProbeResult => ({
      rps: 0,
      p50: 0,
      p99: 0,
      max: 0,
      total: latencies.length,
      ok: latencies.length - non2xx,
      non2xx,
      errors: 1,
      seconds,
      latencies,
    });
    // 100 answers in all: 1..60 ms in the first round, 61..100 in the second.
    const first = run(
      Array.from({ length: 60 }, (_, i) => i + 1),
      2,
      8,
    );
    const second = run(
      Array.from({ length: 40 }, (_, i) => i + 61),
      0,
      8,
    );
    const c = combine([second, first]);
    assert.equal(c.total, 100);
    assert.equal(c.ok, 98);
    assert.equal(c.non2xx, 2);
    assert.equal(c.errors, 2);
    assert.equal(c.seconds, 16);
    assert.equal(c.rps, 98 / 16);
    // Nearest rank over the 100 together, whichever round they came from.
    assert.equal(c.p50, 50);
    assert.equal(c.p99, 99);
    assert.equal(c.max, 100);
    assert.deepEqual(c.latencies.slice(58, 62), [59, 60, 61, 62]);
  });
});
