import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { loadConfig } from '#src/config/config.js';
import { ConfigModule } from '#src/config/config.module.js';
import { DatabaseModule } from '#src/database/database.module.js';
import { Database } from '#src/database/database.service.js';
import { narrowServerPermissions } from '#src/kernel/narrowing.js';
import type { CredentialKind, Principal } from '#src/kernel/principal.js';
import type { User } from '#src/users/user.entity.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { provisionDatabase } from '../support/database.js';

/**
 * The medium tier: chosen providers on a real database (TEST_DATABASE_URL: in-memory SQLite by
 * default, a fresh MySQL database per context otherwise) with the real migrations, and no HTTP.
 */
export interface MediumContext {
  module: TestingModule;
  db: DataSource;
  database: Database;
  get<T>(token: Type<T>): T;
  close(): Promise<void>;
}

export async function createMediumContext(providers: Type[]): Promise<MediumContext> {
  const provisioned = await provisionDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: provisioned.url,
    SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
    LOG_LEVEL: 'silent',
  });
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), DatabaseModule],
    providers,
  }).compile();
  // init() runs the migrations (migrationsRun) before the first test touches a table.
  await module.init();
  return {
    module,
    db: module.get(DataSource),
    database: module.get(Database),
    get: <T>(token: Type<T>) => module.get(token),
    close: async () => {
      await module.close();
      await provisioned.drop();
    },
  };
}

const catalogue = new PermissionCatalogue();

/**
 * A principal for `user` as the guard would build it: server permissions from the server role and
 * named roles' permissions, narrowed by an API key's scopes; a grant's project permissions as given.
 */
export function principalFor(
  user: Pick<User, 'id' | 'email' | 'role'>,
  opts: {
    namedRolePermissions?: string[];
    scopes?: string[] | null;
    projectPermissions?: Record<string, string[]> | null;
    kind?: CredentialKind;
  } = {},
): Principal {
  const scopes = opts.scopes ?? null;
  const projectPermissions = opts.projectPermissions ?? null;
  const held = catalogue.serverPermissions(user.role, opts.namedRolePermissions ?? []);
  const kind = opts.kind ?? (scopes ? 'api_key' : projectPermissions ? 'access_token' : 'session');
  return {
    userId: user.id,
    email: user.email,
    role: user.role,
    roles: [],
    permissions: narrowServerPermissions(held, scopes),
    credential: { kind, id: `${kind}-${user.id}`, via: 'header' },
    scopes,
    projectPermissions,
  };
}
