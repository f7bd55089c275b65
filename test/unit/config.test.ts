import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '#src/config/config.js';

const SECRET = 'a-secret-key-of-at-least-32-characters!!';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('loadConfig accepted the configuration');
}

describe(loadConfig.name, () => {
  it('starts with safe defaults for a first run', () => {
    const c = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:' });
    assert.equal(c.port, 3000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.publicUrl, 'http://localhost:3000');
    assert.equal(c.registration, 'activation');
    assert.equal(c.bcryptCost, 12);
    assert.equal(c.bcryptConcurrency, availableParallelism());
    assert.equal(c.bcryptNice, 10);
    assert.equal(c.lockoutThreshold, 10);
    assert.equal(c.rateLimitSignin, 20);
    assert.equal(c.trustProxy, false);
    assert.equal(c.smtpUrl, null);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.passwordPolicy.minLength, 12);
    assert.equal(c.passwordPolicy.maxBytes, 72);
    assert.equal(c.shutdownTimeoutSeconds, 10);
    assert.equal(c.metricsLoopDelayResolutionMs, 100);
  });

  it('names every invalid variable in one error', () => {
    const problems = problemsOf({
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://x/y',
      PORT: 'eighty',
      PUBLIC_URL: 'ftp://example.com',
      REGISTRATION: 'maybe',
      BCRYPT_COST: '40',
      BCRYPT_CONCURRENCY: '0',
      BCRYPT_NICE: '20',
      LOCKOUT_THRESHOLD: '0',
      RATE_LIMIT_SIGNIN: '-1',
      TRUST_PROXY: 'everyone',
      LOG_LEVEL: 'loud',
      SMTP_URL: 'http://mail',
      OIDC_PROVIDERS: '{"id":1}',
      SECRET_KEY: 'short',
      SHUTDOWN_TIMEOUT: '0',
      METRICS_LOOP_DELAY_RESOLUTION_MS: '0',
    });
    const named = [
      'DATABASE_URL',
      'PORT',
      'PUBLIC_URL',
      'REGISTRATION',
      'BCRYPT_COST',
      'BCRYPT_CONCURRENCY',
      'BCRYPT_NICE',
      'LOCKOUT_THRESHOLD',
      'RATE_LIMIT_SIGNIN',
      'TRUST_PROXY',
      'LOG_LEVEL',
      'SMTP_URL',
      'OIDC_PROVIDERS',
      'SECRET_KEY',
      'SHUTDOWN_TIMEOUT',
      'METRICS_LOOP_DELAY_RESOLUTION_MS',
    ];
    for (const name of named)
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} not named in:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, named.length);
  });

  it('puts each problem on its own line of the message', () => {
    try {
      loadConfig({ NODE_ENV: 'test', SECRET_KEY: SECRET, PORT: '99999', LOG_LEVEL: 'loud' });
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^Invalid configuration:\n {2}- PORT .*\n {2}- LOG_LEVEL /);
    }
  });

  it('refuses the implicit SQLite default in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production', SECRET_KEY: SECRET });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^DATABASE_URL must be set when NODE_ENV=production/);
  });

  it('accepts SQLite in production when it is configured explicitly', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      SECRET_KEY: SECRET,
      DATABASE_URL: 'sqlite::memory:',
    });
    assert.equal(c.database.type, 'sqlite');
  });

  it('requires SECRET_KEY in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production', DATABASE_URL: 'mysql://u:p@db/g' });
    assert.deepEqual(problems, ['SECRET_KEY is required when NODE_ENV=production']);
  });

  it('refuses a bcrypt cost under 10 outside tests', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      SECRET_KEY: SECRET,
      DATABASE_URL: 'sqlite::memory:',
      BCRYPT_COST: '4',
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^BCRYPT_COST/);
  });

  it('parses MySQL URLs, TRUST_PROXY hop counts and CIDR lists, and RATE_LIMIT_SIGNIN=0', () => {
    const c = loadConfig({
      NODE_ENV: 'test',
      SECRET_KEY: SECRET,
      DATABASE_URL: 'mysql://user:p%40ss@db.internal:3307/gate',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
      RATE_LIMIT_SIGNIN: '0',
    });
    assert.deepEqual(c.database, {
      type: 'mysql',
      url: 'mysql://user:p%40ss@db.internal:3307/gate',
      host: 'db.internal',
      port: 3307,
      hosts: [{ host: 'db.internal', port: 3307 }],
      user: 'user',
      password: 'p@ss',
      database: 'gate',
    });
    assert.equal(c.trustProxy, '10.0.0.0/8,192.168.1.1');
    assert.equal(c.rateLimitSignin, 0);
    assert.equal(
      loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', TRUST_PROXY: '2' })
        .trustProxy,
      2,
    );
  });
});

describe('.env.example', () => {
  it('lists every variable the configuration reads, and the documented table does too', () => {
    const source = readFileSync('src/config/config.ts', 'utf8');
    const read = new Set(
      [...source.matchAll(/r\.(?:raw|str|int|bool|oneOf|url)(?:<[^>]*>)?\(\s*'([A-Z_]+)'/g)].map(
        (m) => m[1]!,
      ),
    );
    assert.ok(read.size > 30, `only ${read.size} variables found in config.ts`);
    const example = new Set(
      [...readFileSync('.env.example', 'utf8').matchAll(/^# ([A-Z_]+)=/gm)].map((m) => m[1]!),
    );
    const table = readFileSync('docs/configuration.md', 'utf8');
    for (const name of read) {
      assert.ok(example.has(name), `${name} is missing from .env.example`);
      assert.ok(table.includes(`| \`${name}\``), `${name} is missing from docs/configuration.md`);
    }
    for (const name of example) assert.ok(read.has(name), `${name} is not a setting`);
  });
});
