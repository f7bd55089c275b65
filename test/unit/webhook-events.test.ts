import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AppException } from '#src/common/errors/app.exception.js';
import { addressAllowed, urlProblem } from '#src/webhooks/target-guard.js';
import {
  KNOWN_EVENT_TYPES,
  matchesFilters,
  validateEventFilters,
} from '#src/webhooks/webhook-events.js';
import { RETRY_MAX_DELAY_MS, RETRY_WINDOW_MS, retryDelayMs } from '#src/webhooks/webhook-worker.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

describe('webhook event types', () => {
  it('lists every audit action the sources record', () => {
    const found = new Set<string>();
    for (const file of sources(join(process.cwd(), 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\baction:\s*([^,\n]+)/g)) {
        for (const lit of m[1]!.matchAll(/'([a-z_]+(?:\.[a-z_]+)+)'/g)) found.add(lit[1]!);
      }
    }
    assert.ok(found.size > 30, 'the scan finds the actions');
    const missing = [...found].filter((a) => !KNOWN_EVENT_TYPES.includes(a)).sort();
    assert.deepEqual(
      missing,
      [],
      'add these to KNOWN_EVENT_TYPES (src/webhooks/webhook-events.ts)',
    );
  });

  it('accepts actions, known prefixes and *, dropping duplicates', () => {
    assert.deepEqual(validateEventFilters(['user.*', 'group.create', 'user.*', '*']), [
      'user.*',
      'group.create',
      '*',
    ]);
  });

  it('refuses unknown actions and prefixes, naming the item', () => {
    for (const [events, field] of [
      [['user.nope'], 'events[0]'],
      [['user.*', 'zzz.*'], 'events[1]'],
      [['user*'], 'events[0]'],
      [[''], 'events[0]'],
      [[], 'events'],
    ] as const) {
      assert.throws(
        () => validateEventFilters(events),
        (e: unknown) => e instanceof AppException && JSON.stringify(e).includes(field),
      );
    }
  });

  it('matches exact actions and prefixes only at a dot', () => {
    assert.ok(matchesFilters(['user.*'], 'user.update'));
    assert.ok(matchesFilters(['*'], 'group.create'));
    assert.ok(matchesFilters(['group.create'], 'group.create'));
    assert.ok(!matchesFilters(['user.*'], 'users.update'));
    assert.ok(!matchesFilters(['group.create'], 'group.delete'));
  });
});

describe('webhook retry schedule', () => {
  it('doubles from 10 s with jitter between half and all of the ceiling, capped at 4 h', () => {
    assert.equal(retryDelayMs(1, 0), 5_000);
    assert.equal(retryDelayMs(1, 1), 10_000);
    assert.equal(retryDelayMs(2, 1), 20_000);
    assert.equal(retryDelayMs(30, 1), RETRY_MAX_DELAY_MS);
    // The full schedule (no jitter) gives up within the 24 h window after about 16 attempts.
    let at = 0;
    let n = 0;
    while (at + retryDelayMs(n + 1, 1) <= RETRY_WINDOW_MS) at += retryDelayMs(++n, 1);
    assert.ok(n >= 14 && n <= 18, `${n} retries`);
  });
});

describe('webhook target guard', () => {
  it('allows public unicast only, unless private targets are allowed', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fc00::1', 'fe80::1'])
      assert.equal(addressAllowed(ip, false), false, ip);
    for (const ip of ['::ffff:192.168.0.1', '0.0.0.0', '255.255.255.255', '100.64.1.1'])
      assert.equal(addressAllowed(ip, false), false, ip);
    for (const ip of ['93.184.215.14', '2606:4700::1111'])
      assert.equal(addressAllowed(ip, false), true, ip);
    assert.equal(addressAllowed('127.0.0.1', true), true);
  });

  it('wants https without credentials or fragment', () => {
    assert.equal(urlProblem('https://example.com/hook', false), null);
    assert.match(urlProblem('http://example.com/hook', false) ?? '', /https/);
    assert.equal(urlProblem('http://127.0.0.1:9/hook', true), null);
    assert.match(urlProblem('https://u:p@example.com/', false) ?? '', /user name/);
    assert.match(urlProblem('https://example.com/#x', false) ?? '', /fragment/);
    assert.match(urlProblem('https://[::1]/', false) ?? '', /private/);
  });
});
