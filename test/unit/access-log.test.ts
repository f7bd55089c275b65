import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DestinationStream } from 'pino';
import { createAccessLog, createPino, type AccessEntry } from '#src/common/logging.js';

/** A pino destination that keeps what is written. */
function capture(): DestinationStream & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
}

const withoutTime = (line: string): string => line.replace(/"time":\d+/, '"time":0');

const entries: AccessEntry[] = [
  {
    reqId: 'req-1',
    method: 'GET',
    path: '/api/v1/users/me',
    ip: '127.0.0.1',
    status: 200,
    responseTime: 1,
  },
  {
    reqId: 'b0c1',
    method: 'POST',
    path: '/a "quoted"\\path é',
    ip: '::1',
    status: 404,
    responseTime: 0,
  },
  {
    reqId: 'x_y-z',
    method: 'DELETE',
    path: '/',
    ip: '::ffff:10.0.0.1',
    status: 503,
    responseTime: 2500,
  },
  // The socket already gone: no address.
  { reqId: 'gone', method: 'GET', path: '/left', ip: undefined, status: 200, responseTime: 7 },
];

describe('access log', () => {
  it('writes the line pino writes for the same fields, on the same stream', () => {
    const out = capture();
    const log = createPino('info', out);
    const access = createAccessLog(log);
    for (const e of entries) {
      const fields = {
        reqId: e.reqId,
        req: { id: e.reqId, method: e.method, path: e.path, ip: e.ip },
        res: { status: e.status },
        responseTime: e.responseTime,
      };
      if (e.status >= 500) log.error(fields, 'request failed');
      else log.info(fields, 'request');
      access(e);
    }
    assert.equal(out.lines.length, entries.length * 2);
    for (let i = 0; i < entries.length; i++) {
      const [byPino, ours] = [out.lines[2 * i] ?? '', out.lines[2 * i + 1] ?? ''];
      assert.equal(withoutTime(ours), withoutTime(byPino));
      const parsed = JSON.parse(ours) as { level: number; time: number; msg: string };
      assert.equal(parsed.level, entries[i]?.status === 503 ? 50 : 30);
      assert.equal('ip' in (JSON.parse(ours) as { req: object }).req, entries[i]?.ip !== undefined);
      assert.ok(Math.abs(parsed.time - Date.now()) < 60_000);
    }
  });

  it('keeps to the logger level: errors only at warn, nothing when silent', () => {
    const warn = capture();
    const atWarn = createAccessLog(createPino('warn', warn));
    for (const e of entries) atWarn(e);
    assert.deepEqual(
      warn.lines.map((l) => (JSON.parse(l) as { msg: string; res: { status: number } }).res.status),
      [503],
    );
    const silent = capture();
    const atSilent = createAccessLog(createPino('silent', silent));
    for (const e of entries) atSilent(e);
    assert.deepEqual(silent.lines, []);
  });
});
