import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * How often the event-loop delay monitor samples by default (METRICS_LOOP_DELAY_RESOLUTION_MS), in
 * ms. The bench subtracts it from the delays it reads.
 */
export const DEFAULT_LOOP_DELAY_RESOLUTION_MS = 100;

export type NodeEnv = 'development' | 'production' | 'test';
export type RegistrationMode = 'open' | 'activation' | 'closed';
export type SignupMode = 'workspace' | 'closed';

export interface OidcProviderConfig {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  trustEmailForLinking: boolean;
}

export type DatabaseConfig =
  | { type: 'sqlite'; path: string; url: string }
  | {
      type: 'mysql';
      url: string;
      host: string;
      port: number;
      /** Every host of a cluster URL (mysql://u@h1:3306,h2:3306/db), in order; `host`/`port` is the first. */
      hosts: { host: string; port: number }[];
      user: string;
      password: string;
      database: string;
    };

export type MfaRequiredMode = 'none' | 'admins' | 'all';

export interface BootstrapAdminConfig {
  email: string;
  /** From BOOTSTRAP_ADMIN_PASSWORD or read from BOOTSTRAP_ADMIN_PASSWORD_FILE. */
  password: string;
  /** The variable the password came from, for messages. */
  passwordSource: 'BOOTSTRAP_ADMIN_PASSWORD' | 'BOOTSTRAP_ADMIN_PASSWORD_FILE';
}

export interface PasswordPolicyConfig {
  minLength: number;
  maxBytes: number;
  breachedCheck: boolean;
  breachedListFile: string | null;
}

/** Validated configuration; one instance per application, injected by class. */
export class AppConfig {
  nodeEnv!: NodeEnv;
  port!: number;
  host!: string;
  publicUrl!: string;
  database!: DatabaseConfig;
  dataDir!: string;
  secretKey!: string;
  oidcProviders!: OidcProviderConfig[];
  smtpUrl!: string | null;
  mailFrom!: string;
  registration!: RegistrationMode;
  signup!: SignupMode;
  bcryptCost!: number;
  /** bcrypt hashes/comparisons run at once (the rest wait their turn); default: the CPU count. */
  bcryptConcurrency!: number;
  /** Scheduling priority (nice, 0–19) of the bcrypt threads: higher yields more to the event loop. */
  bcryptNice!: number;
  redisUrl!: string | null;
  lockoutThreshold!: number;
  rateLimitSignin!: number;
  /** SCIM requests a minute per SCIM token (429 with Retry-After beyond); 0 turns it off. */
  rateLimitScim!: number;
  trustProxy!: string | number | false;
  logLevel!: string;
  sessionIdleMinutes!: number;
  sessionAbsoluteHours!: number;
  passwordResetMinutes!: number;
  activationHours!: number;
  passwordPolicy!: PasswordPolicyConfig;
  accessTokenMinutes!: number;
  refreshFamilyDays!: number;
  oidcTimeoutMs!: number;
  /** Extra AES-256 keys for stored secrets (kid to 32-byte key), besides the one derived from SECRET_KEY. */
  encryptionKeys!: Record<string, string>;
  /** The kid new ciphertexts use; null means the key derived from SECRET_KEY. */
  encryptionKeyActive!: string | null;
  signingKeyRotationDays!: number;
  /** Seconds a SIGTERM/SIGINT may take to drain requests and close the pools before giving up. */
  shutdownTimeoutSeconds!: number;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken!: string | null;
  /** How often the event-loop delay monitor behind nodejs_eventloop_lag_* samples, in ms. */
  metricsLoopDelayResolutionMs!: number;
  /** Webhook targets on private, loopback or link-local addresses (and plain http) are allowed. */
  webhookAllowPrivate!: boolean;
  /** The first admin, created at start-up when no user exists (BOOTSTRAP_ADMIN_*). */
  bootstrapAdmin!: BootstrapAdminConfig | null;
  /** Who must have a second factor (MFA_REQUIRED). */
  mfaRequired!: MfaRequiredMode;
  /** How recent a sign-in must be for sensitive self-service changes (REAUTH_MINUTES). */
  reauthMinutes!: number;
  /** Days a workspace invitation link stays valid. */
  invitationDays!: number;

  get isProduction(): boolean {
    return this.nodeEnv === 'production';
  }
  get secureCookies(): boolean {
    return this.publicUrl.startsWith('https://');
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${v}")`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    this.problems.push(`${name} must be true or false (got "${v}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${v}")`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const v = this.raw(name) ?? fallback;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return v.replace(/\/+$/, '');
    } catch {
      this.problems.push(
        `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      );
      return fallback;
    }
  }
}

function parseDatabase(r: Reader, nodeEnv: NodeEnv, dataDir: string): DatabaseConfig {
  const explicit = r.raw('DATABASE_URL');
  if (explicit === undefined && nodeEnv === 'production') {
    r.problems.push(
      'DATABASE_URL must be set when NODE_ENV=production: the embedded SQLite default is for development only',
    );
  }
  const url = explicit ?? `sqlite:${join(dataDir, 'gatehouse.sqlite')}`;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') r.problems.push('DATABASE_URL sqlite: needs a path or :memory:');
    return { type: 'sqlite', path: path === ':memory:' ? ':memory:' : resolve(path), url };
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    const parsed = parseMysqlUrl(url);
    if (parsed) return parsed;
    r.problems.push(
      'DATABASE_URL must look like mysql://user:pass@host:port/database (several hosts: mysql://user:pass@h1:port,h2:port/database)',
    );
  } else {
    r.problems.push('DATABASE_URL must start with sqlite: or mysql://');
  }
  return { type: 'sqlite', path: ':memory:', url: 'sqlite::memory:' };
}

/**
 * mysql://user:pass@host:port/database, or several comma-separated hosts for a cluster
 * (mysql://user:pass@h1:3306,h2:3306,[::1]:3307/database): new connections go to the first host
 * that answers, in this order (src/database/failover.ts).
 */
export function parseMysqlUrl(url: string): DatabaseConfig | null {
  const m = /^(?:mysql|mariadb):\/\/(?:([^@/]*)@)?([^/?#]+)\/([^?#]*)/.exec(url);
  if (!m) return null;
  const [, auth = '', hostList = '', path = ''] = m;
  try {
    const database = decodeURIComponent(path);
    if (!database) return null;
    const hosts = hostList.split(',').map((h) => {
      const u = new URL(`mysql://${h.trim()}`);
      if (!u.hostname || u.pathname !== '' || u.username) throw new Error('host');
      return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port ? Number(u.port) : 3306 };
    });
    const first = hosts[0];
    if (!first) return null;
    const colon = auth.indexOf(':');
    return {
      type: 'mysql',
      url,
      host: first.host,
      port: first.port,
      hosts,
      user: decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon)),
      password: colon < 0 ? '' : decodeURIComponent(auth.slice(colon + 1)),
      database,
    };
  } catch {
    return null;
  }
}

function parseProviders(r: Reader): OidcProviderConfig[] {
  const raw = r.raw('OIDC_PROVIDERS');
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    r.problems.push('OIDC_PROVIDERS must be a JSON array');
    return [];
  }
  if (!Array.isArray(parsed)) {
    r.problems.push('OIDC_PROVIDERS must be a JSON array');
    return [];
  }
  const out: OidcProviderConfig[] = [];
  const seen = new Set<string>();
  parsed.forEach((item: unknown, i) => {
    const p = (item ?? {}) as Record<string, unknown>;
    const where = `OIDC_PROVIDERS[${i}]`;
    const need = (k: string): string => {
      const v = p[k];
      if (typeof v !== 'string' || v.trim() === '') {
        r.problems.push(`${where}.${k} is required (a non-empty string)`);
        return '';
      }
      return v.trim();
    };
    const id = need('id');
    if (id && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id))
      r.problems.push(`${where}.id must be a lower-case slug`);
    if (seen.has(id)) r.problems.push(`${where}.id "${id}" is used twice`);
    seen.add(id);
    const issuer = need('issuer');
    if (issuer && !/^https?:\/\//.test(issuer))
      r.problems.push(`${where}.issuer must be an http(s) URL`);
    const scopes = p['scopes'];
    if (
      scopes !== undefined &&
      (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
    ) {
      r.problems.push(`${where}.scopes must be an array of strings`);
    }
    const trust = p['trustEmailForLinking'];
    if (trust !== undefined && typeof trust !== 'boolean')
      r.problems.push(`${where}.trustEmailForLinking must be a boolean`);
    out.push({
      id,
      name: typeof p['name'] === 'string' && p['name'] ? p['name'] : id,
      issuer,
      clientId: need('clientId'),
      clientSecret: need('clientSecret'),
      scopes: Array.isArray(scopes) ? (scopes as string[]) : ['openid', 'email', 'profile'],
      trustEmailForLinking: trust === true,
    });
  });
  return out;
}

/** ENCRYPTION_KEYS: a JSON object of kid to a base64 (or base64url) 32-byte key. */
function parseEncryptionKeys(r: Reader): Record<string, string> {
  const raw = r.raw('ENCRYPTION_KEYS');
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    r.problems.push('ENCRYPTION_KEYS must be a JSON object of key id to base64 key');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [kid, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(kid) || kid.startsWith('sk-')) {
      r.problems.push(
        `ENCRYPTION_KEYS key id "${kid}" must be a short slug (up to 32 characters, not starting with sk-)`,
      );
      continue;
    }
    if (typeof value !== 'string' || Buffer.from(value, 'base64').length !== 32) {
      r.problems.push(`ENCRYPTION_KEYS.${kid} must be a base64 string of exactly 32 bytes`);
      continue;
    }
    out[kid] = value;
  }
  return out;
}

function parseTrustProxy(r: Reader): string | number | false {
  const v = r.raw('TRUST_PROXY');
  if (v === undefined) return false;
  if (/^\d+$/.test(v)) return Number(v);
  const parts = v.split(',').map((s) => s.trim());
  const cidr =
    /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+(\/\d{1,3})?|loopback|linklocal|uniquelocal)$/;
  if (parts.some((p) => !cidr.test(p))) {
    r.problems.push('TRUST_PROXY must be a hop count or a comma-separated list of addresses/CIDRs');
    return false;
  }
  return parts.join(',');
}

/** The dev secret is generated once and kept in the data folder so restarts keep sessions valid. */
function devSecret(dataDir: string, inMemory: boolean): string {
  if (inMemory) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * BOOTSTRAP_ADMIN_EMAIL with exactly one of BOOTSTRAP_ADMIN_PASSWORD / _FILE. The password is
 * checked against the length rules here (the breached-password list, when set, at start-up).
 */
function parseBootstrapAdmin(r: Reader, env: Env, minLength: number): BootstrapAdminConfig | null {
  const email = r.raw('BOOTSTRAP_ADMIN_EMAIL');
  // Presence as for every setting; the value untrimmed (spaces may be part of a password).
  const hasInline = r.raw('BOOTSTRAP_ADMIN_PASSWORD') !== undefined;
  const inline = env['BOOTSTRAP_ADMIN_PASSWORD'] ?? '';
  const file = r.raw('BOOTSTRAP_ADMIN_PASSWORD_FILE');
  if (email === undefined) {
    if (hasInline || file !== undefined)
      r.problems.push(
        'BOOTSTRAP_ADMIN_EMAIL must be set when BOOTSTRAP_ADMIN_PASSWORD or BOOTSTRAP_ADMIN_PASSWORD_FILE is',
      );
    return null;
  }
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    r.problems.push('BOOTSTRAP_ADMIN_EMAIL must be an email address');
    return null;
  }
  if (hasInline && file !== undefined) {
    r.problems.push(
      'BOOTSTRAP_ADMIN_PASSWORD and BOOTSTRAP_ADMIN_PASSWORD_FILE are exclusive: set one',
    );
    return null;
  }
  let password: string;
  let passwordSource: BootstrapAdminConfig['passwordSource'];
  if (file !== undefined) {
    passwordSource = 'BOOTSTRAP_ADMIN_PASSWORD_FILE';
    try {
      // One trailing newline (as `echo` and most secret mounts write) is not part of the password.
      password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch {
      r.problems.push(`BOOTSTRAP_ADMIN_PASSWORD_FILE cannot be read (${file})`);
      return null;
    }
  } else if (hasInline) {
    passwordSource = 'BOOTSTRAP_ADMIN_PASSWORD';
    password = inline;
  } else {
    r.problems.push(
      'BOOTSTRAP_ADMIN_PASSWORD or BOOTSTRAP_ADMIN_PASSWORD_FILE must be set when BOOTSTRAP_ADMIN_EMAIL is',
    );
    return null;
  }
  if ([...password].length < minLength || Buffer.byteLength(password, 'utf8') > 72) {
    // Never the password itself in the message.
    r.problems.push(
      `${passwordSource} must hold a password of at least ${minLength} characters and at most 72 bytes in UTF-8`,
    );
    return null;
  }
  return { email, password, passwordSource };
}

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf<NodeEnv>(
    'NODE_ENV',
    ['development', 'production', 'test'],
    'development',
  );
  const port = r.int('PORT', 3000, 0, 65535);
  const host = r.str('HOST', '127.0.0.1');
  const dataDir = resolve(r.str('DATA_DIR', './data'));
  const database = parseDatabase(r, nodeEnv, dataDir);

  let secretKey = r.raw('SECRET_KEY');
  if (secretKey !== undefined && Buffer.byteLength(secretKey) < 32) {
    r.problems.push('SECRET_KEY must be at least 32 characters');
  }
  if (secretKey === undefined) {
    if (nodeEnv === 'production')
      r.problems.push('SECRET_KEY is required when NODE_ENV=production');
    else
      secretKey = devSecret(
        dataDir,
        database.type === 'sqlite' && database.path === ':memory:' && nodeEnv === 'test',
      );
  }

  const encryptionKeys = parseEncryptionKeys(r);
  const encryptionKeyActive = r.raw('ENCRYPTION_KEY_ACTIVE') ?? null;
  if (encryptionKeyActive !== null && !(encryptionKeyActive in encryptionKeys)) {
    r.problems.push('ENCRYPTION_KEY_ACTIVE must name a key id of ENCRYPTION_KEYS');
  }

  const passwordMinLength = r.int('PASSWORD_MIN_LENGTH', 12, 8, 72);
  const cfg = new AppConfig();
  Object.assign(cfg, {
    nodeEnv,
    port,
    host,
    publicUrl: r.url('PUBLIC_URL', `http://localhost:${port}`, ['http:', 'https:']),
    database,
    dataDir,
    secretKey: secretKey ?? '',
    oidcProviders: parseProviders(r),
    smtpUrl: r.raw('SMTP_URL') === undefined ? null : r.url('SMTP_URL', '', ['smtp:', 'smtps:']),
    mailFrom: r.str('MAIL_FROM', 'Gatehouse <no-reply@localhost>'),
    registration: r.oneOf<RegistrationMode>(
      'REGISTRATION',
      ['open', 'activation', 'closed'],
      'activation',
    ),
    signup: r.oneOf<SignupMode>('SIGNUP', ['workspace', 'closed'], 'workspace'),
    bcryptCost: r.int('BCRYPT_COST', 12, nodeEnv === 'test' ? 4 : 10, 15),
    bcryptConcurrency: r.int('BCRYPT_CONCURRENCY', availableParallelism(), 1, 256),
    bcryptNice: r.int('BCRYPT_NICE', 10, 0, 19),
    redisUrl:
      r.raw('REDIS_URL') === undefined ? null : r.url('REDIS_URL', '', ['redis:', 'rediss:']),
    lockoutThreshold: r.int('LOCKOUT_THRESHOLD', 10, 1, 1000),
    rateLimitSignin: r.int('RATE_LIMIT_SIGNIN', 20, 0, 1_000_000),
    rateLimitScim: r.int('RATE_LIMIT_SCIM', 600, 0, 1_000_000),
    trustProxy: parseTrustProxy(r),
    logLevel: r.oneOf(
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
    sessionIdleMinutes: r.int('SESSION_IDLE_MINUTES', 60 * 24, 1, 60 * 24 * 90),
    sessionAbsoluteHours: r.int('SESSION_ABSOLUTE_HOURS', 24 * 14, 1, 24 * 365),
    passwordResetMinutes: r.int('PASSWORD_RESET_MINUTES', 60, 5, 60 * 24),
    activationHours: r.int('ACTIVATION_HOURS', 72, 1, 24 * 30),
    passwordPolicy: {
      minLength: passwordMinLength,
      maxBytes: 72,
      breachedCheck: r.raw('PASSWORD_BREACHED_LIST') !== undefined,
      breachedListFile: r.raw('PASSWORD_BREACHED_LIST') ?? null,
    },
    accessTokenMinutes: r.int('ACCESS_TOKEN_MINUTES', 15, 1, 24 * 60),
    refreshFamilyDays: r.int('REFRESH_FAMILY_DAYS', 90, 1, 3650),
    oidcTimeoutMs: r.int('OIDC_TIMEOUT_MS', 5000, 100, 60000),
    encryptionKeys,
    encryptionKeyActive,
    signingKeyRotationDays: r.int('SIGNING_KEY_ROTATION_DAYS', 30, 1, 3650),
    shutdownTimeoutSeconds: r.int('SHUTDOWN_TIMEOUT', 10, 1, 600),
    metricsToken: r.raw('METRICS_TOKEN') ?? null,
    metricsLoopDelayResolutionMs: r.int(
      'METRICS_LOOP_DELAY_RESOLUTION_MS',
      DEFAULT_LOOP_DELAY_RESOLUTION_MS,
      1,
      10_000,
    ),
    webhookAllowPrivate: r.bool('WEBHOOK_ALLOW_PRIVATE', false),
    bootstrapAdmin: parseBootstrapAdmin(r, env, passwordMinLength),
    mfaRequired: r.oneOf<MfaRequiredMode>('MFA_REQUIRED', ['none', 'admins', 'all'], 'none'),
    reauthMinutes: r.int('REAUTH_MINUTES', 10, 1, 24 * 60),
    invitationDays: r.int('INVITATION_DAYS', 7, 1, 90),
  } satisfies Omit<AppConfig, 'isProduction' | 'secureCookies'>);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return cfg;
}

/** Reads ./.env (when present) into process.env without overriding variables already set. */
export function loadDotEnv(file = '.env'): void {
  if (!existsSync(file)) return;
  process.loadEnvFile(file);
}
