import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAccessLog, createPino, TurnBatchedStream } from '#src/common/logging.js';

/** The next turn of the event loop (after the stream's own setImmediate). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A destination that keeps each write it is given. */
function writes(): { chunks: string[]; write(chunk: string): void } {
  const chunks: string[] = [];
  return { chunks, write: (chunk: string) => void chunks.push(chunk) };
}

const LOGGING = fileURLToPath(new URL('../../src/common/logging.js', import.meta.url));

/** Runs `body` in a new Node process with `createPino` imported; its stdout and exit status. */
function child(body: string): { stdout: string; status: number | null } {
  const script = `import { createPino } from ${JSON.stringify(LOGGING)};\n${body}`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { stdout: run.stdout, status: run.status };
}

const messages = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

describe('the log written once a turn', () => {
  it('writes the lines of one turn in one write, in order, when the turn ends', async () => {
    const out = writes();
    const stream = new TurnBatchedStream(out);
    stream.write('a\n');
    stream.write('b\n');
    stream.write('c\n');
    assert.deepEqual(out.chunks, [], 'nothing is written before the turn ends');
    await nextTurn();
    assert.deepEqual(out.chunks, ['a\nb\nc\n']);
    stream.write('d\n');
    await nextTurn();
    assert.deepEqual(out.chunks, ['a\nb\nc\n', 'd\n'], 'a later turn is a write of its own');
    await nextTurn();
    assert.equal(out.chunks.length, 2, 'a turn with no line writes nothing');
  });

  it('writes what it keeps at once on flush, and calls back', async () => {
    const out = writes();
    const stream = new TurnBatchedStream(out);
    stream.write('x\n');
    stream.write('y\n');
    let called = false;
    stream.flush(() => {
      called = true;
    });
    assert.deepEqual(out.chunks, ['x\ny\n']);
    assert.ok(called);
    await nextTurn();
    assert.deepEqual(out.chunks, ['x\ny\n'], 'the turn’s end finds nothing left to write');
  });

  it('keeps pino’s lines and the access lines in the order they were written', async () => {
    const out = writes();
    const log = createPino('info', new TurnBatchedStream(out));
    const access = createAccessLog(log);
    log.info('first');
    access({ reqId: 'r1', method: 'GET', path: '/', ip: '::1', status: 200, responseTime: 0 });
    log.warn('third');
    await nextTurn();
    assert.equal(out.chunks.length, 1);
    assert.deepEqual(messages(out.chunks[0] ?? ''), ['first', 'request', 'third']);
  });

  it('on stdout, loses no line when the process exits in the same turn', () => {
    const run = child(`const log = createPino('info');
log.info('one');
log.info('two');
process.exit(3);`);
    assert.equal(run.status, 3);
    assert.deepEqual(messages(run.stdout), ['one', 'two']);
  });

  it('on stdout, loses no line when the process dies of an uncaught error', () => {
    const run = child(`const log = createPino('info');
log.info('before the error');
setImmediate(() => { log.error('last words'); throw new Error('boom'); });`);
    assert.equal(run.status, 1);
    assert.deepEqual(messages(run.stdout), ['before the error', 'last words']);
  });

  it('on stdout, writes a line logged in a later turn while the process runs on', () => {
    const run = child(`const log = createPino('info');
log.info('now');
setTimeout(() => log.info('later'), 20);
setTimeout(() => {}, 60);`);
    assert.equal(run.status, 0);
    assert.deepEqual(messages(run.stdout), ['now', 'later']);
  });
});
