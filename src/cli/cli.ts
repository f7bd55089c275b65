import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { ConfigError, loadConfig, loadDotEnv, type AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
// The application and TypeORM are loaded only by the commands that use them (dynamic imports
// below): usage errors and server-side commands answer at once.

/** Exit codes: 0 done, 1 refused or failed, 2 wrong usage (or a command not available). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

type Env = Record<string, string | undefined>;

const USAGE = `Usage: gatehouse <command> [options]

Commands talking to the database directly (DATABASE_URL and the other settings, as the server):
  migrate                              Run the pending database migrations.
  users create --email <email> [--admin] [--full-name <name>]
               [--password-file <file> | --password-stdin]
                                       Create an active user (email verified); the password comes
                                       from the file, standard input, or GATEHOUSE_PASSWORD.
  audit verify                         Walk the audit hash chain; exit 1 when it is broken.

Commands talking to a running server (GATEHOUSE_URL, GATEHOUSE_TOKEN: an admin API key):
  users list [--query <prefix>] [--limit <n>]
  keys create --name <name> [--expires-at <date-time>] [--scope <scope>]...

Not available yet:
  clients create                       (comes with the OpenID Provider)
`;

class UsageError extends Error {}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function config(env: Env): AppConfig {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

/** The application without HTTP (migrations run, services ready), closed after `work`. */
async function withContext<T>(
  env: Env,
  work: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const cfg = config({ LOG_LEVEL: 'warn', ...env });
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('#src/app.module.js');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(cfg), {
    logger: ['error'],
    abortOnError: false,
  });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

async function readPassword(
  values: { 'password-file'?: string; 'password-stdin'?: boolean },
  env: Env,
): Promise<string> {
  const sources = [
    values['password-file'] !== undefined,
    values['password-stdin'] === true,
    env['GATEHOUSE_PASSWORD'] !== undefined,
  ].filter(Boolean).length;
  if (sources !== 1)
    throw new UsageError(
      'give the password in exactly one way: --password-file <file>, --password-stdin or GATEHOUSE_PASSWORD (never on the command line, where other users of the machine can read it)',
    );
  if (values['password-file'] !== undefined) {
    try {
      return readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new UsageError(`cannot read --password-file ${values['password-file']}`);
    }
  }
  if (values['password-stdin']) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  return env['GATEHOUSE_PASSWORD'] ?? '';
}

async function migrate(env: Env): Promise<number> {
  const cfg = config(env);
  const { DataSource } = await import('typeorm');
  const { dataSourceOptions, detectMysqlFlavour } = await import('#src/database/data-source.js');
  const ds = new DataSource(
    dataSourceOptions(cfg.database, await detectMysqlFlavour(cfg.database)),
  );
  await ds.initialize();
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    out(
      ran.length
        ? `Ran ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`
        : 'The database is up to date.',
    );
    return EXIT_OK;
  } finally {
    await ds.destroy();
  }
}

async function usersCreate(args: string[], env: Env): Promise<number> {
  const v = parse(args, {
    email: { type: 'string' },
    admin: { type: 'boolean' },
    'full-name': { type: 'string' },
    'password-file': { type: 'string' },
    'password-stdin': { type: 'boolean' },
  });
  if (!v.email) throw new UsageError('--email is required');
  const password = await readPassword(v, env);
  const { BootstrapAdminService } = await import('#src/auth/bootstrap-admin.service.js');
  return withContext(env, async (app) => {
    try {
      const user = await app
        .get(BootstrapAdminService)
        .createUser(v.email!, password, v.admin === true, v['full-name']);
      out(JSON.stringify({ id: user.id, email: user.email, role: user.role }));
      return EXIT_OK;
    } catch (e) {
      if (e instanceof AppException) {
        err(`gatehouse: refused: ${e.detail}`);
        return EXIT_FAILED;
      }
      throw e;
    }
  });
}

async function auditVerify(env: Env): Promise<number> {
  const { AuditService } = await import('#src/audit/audit.service.js');
  return withContext(env, async (app) => {
    const result = await app.get(AuditService).verifyChain();
    out(JSON.stringify(result));
    if (!result.ok)
      err(`gatehouse: the audit chain is broken at ${result.brokenAt}: ${result.reason}`);
    return result.ok ? EXIT_OK : EXIT_FAILED;
  });
}

/** A call to the running server with the admin token; the problem's detail on failure. */
async function api(env: Env, method: string, path: string, body?: unknown): Promise<unknown> {
  const base = env['GATEHOUSE_URL'];
  const token = env['GATEHOUSE_TOKEN'];
  if (!base || !token)
    throw new UsageError(
      'this command talks to a running server: set GATEHOUSE_URL and GATEHOUSE_TOKEN',
    );
  let url: URL;
  try {
    url = new URL(`/api/v1${path}`, base);
  } catch {
    throw new UsageError('GATEHOUSE_URL must be a URL such as http://127.0.0.1:3000');
  }
  const res = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const p = (parsed ?? {}) as { title?: string; detail?: string };
    throw new Error(`the server answered ${res.status}: ${p.detail ?? p.title ?? text}`);
  }
  return parsed;
}

async function usersList(args: string[], env: Env): Promise<number> {
  const v = parse(args, { query: { type: 'string' }, limit: { type: 'string' } });
  const q = new URLSearchParams();
  if (v.query) q.set('query', v.query);
  if (v.limit) q.set('limit', v.limit);
  const page = (await api(env, 'GET', `/users${q.size ? `?${q.toString()}` : ''}`)) as {
    items: { id: string; email: string; role: string; status: string }[];
  };
  for (const u of page.items) out(`${u.id}\t${u.email}\t${u.role}\t${u.status}`);
  return EXIT_OK;
}

async function keysCreate(args: string[], env: Env): Promise<number> {
  const v = parse(args, {
    name: { type: 'string' },
    'expires-at': { type: 'string' },
    scope: { type: 'string', multiple: true },
  });
  if (!v.name) throw new UsageError('--name is required');
  const key = (await api(env, 'POST', '/users/me/api-keys', {
    name: v.name,
    ...(v['expires-at'] ? { expiresAt: v['expires-at'] } : {}),
    ...(v.scope ? { scopes: v.scope } : {}),
  })) as { id: string; key?: string; secret?: string };
  out(JSON.stringify(key));
  return EXIT_OK;
}

/** Runs one command; answers the exit code. */
export async function runCli(argv: string[], env: Env): Promise<number> {
  if (env === process.env) loadDotEnv();
  const [command, sub, ...rest] = argv;
  try {
    switch (`${command ?? ''} ${sub ?? ''}`.trim()) {
      case 'migrate':
        return await migrate(env);
      case 'users create':
        return await usersCreate(rest, env);
      case 'users list':
        return await usersList(rest, env);
      case 'keys create':
        return await keysCreate(rest, env);
      case 'audit verify':
        return await auditVerify(env);
      case 'clients create':
        err(
          'gatehouse: `clients create` is not available yet: it comes with the OpenID Provider (the /api/v1/clients routes).',
        );
        return EXIT_USAGE;
      case 'help':
      case '--help':
      case '':
        out(USAGE);
        return command ? EXIT_OK : EXIT_USAGE;
      default:
        err(`gatehouse: unknown command "${argv.join(' ')}"\n\n${USAGE}`);
        return EXIT_USAGE;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`gatehouse: ${e.message}`);
      return EXIT_USAGE;
    }
    err(`gatehouse: ${(e as Error).message}`);
    return EXIT_FAILED;
  }
}
