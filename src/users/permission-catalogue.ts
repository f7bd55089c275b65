import { Injectable, Optional, SetMetadata, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { isWritePermission, permits } from '#src/kernel/permissions.js';
import type { ServerRole } from '#src/kernel/principal.js';

export interface PermissionType {
  name: string;
  description: string;
  /** Where it applies: the whole server, or one project. */
  scope: 'server' | 'project';
}

const DECLARED_PERMISSIONS = 'gatehouse:declared-permissions';

/** Adds these permission types to the catalogue (found on the provider at boot). */
export function DeclaresPermissions(types: readonly PermissionType[]): ClassDecorator {
  return SetMetadata(DECLARED_PERMISSIONS, types);
}

const SERVER_PERMISSIONS: PermissionType[] = [
  { name: 'users.read', description: 'List and read every user', scope: 'server' },
  {
    name: 'users.manage',
    description: 'Create, change, activate and delete any user, and manage their credentials',
    scope: 'server',
  },
  { name: 'roles.manage', description: 'Create, change and delete named roles', scope: 'server' },
  { name: 'audit.read', description: "Read any user's change log and actions", scope: 'server' },
  { name: 'workspaces.create', description: 'Create workspaces', scope: 'server' },
  {
    name: 'workspaces.manage',
    description: 'Administer every workspace, its groups and projects',
    scope: 'server',
  },
  { name: 'credentials.create', description: 'Create own API keys and grants', scope: 'server' },
];

/** What each server role grants on the server. `reader` and `demo` never write. */
const ROLE_PERMISSIONS: Record<ServerRole, string[]> = {
  admin: ['*'],
  user: ['workspaces.create', 'credentials.create'],
  demo: [],
  reader: [],
};

/**
 * Every permission type the server knows: the server's own, and those other modules declare with
 * `@DeclaresPermissions(...)` on one of their providers (tenancy: the project permissions).
 */
@Injectable()
export class PermissionCatalogue implements OnModuleInit {
  private readonly types = new Map<string, PermissionType>(
    SERVER_PERMISSIONS.map((p) => [p.name, p]),
  );

  // Optional so the catalogue can be built alone (small tests); Nest always provides both.
  constructor(
    @Optional() private readonly discovery?: DiscoveryService,
    @Optional() private readonly reflector?: Reflector,
  ) {}

  onModuleInit(): void {
    if (!this.discovery || !this.reflector) return;
    for (const w of this.discovery.getProviders()) {
      if (!w.metatype) continue;
      const declared = this.reflector.get<PermissionType[] | undefined>(
        DECLARED_PERMISSIONS,
        w.metatype,
      );
      if (declared) this.register(declared);
    }
  }

  register(types: readonly PermissionType[]): void {
    for (const t of types) this.types.set(t.name, t);
  }

  list(): PermissionType[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** GET /permissions: the list contract (limit, keyset cursor on the name) like every other list. */
  page(limit: number, cursor?: string): Page<PermissionType> {
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = this.list().filter(
      (p) => after === undefined || p.name.localeCompare(String(after)) > 0,
    );
    return toPage(
      rows.slice(0, limit + 1),
      limit,
      (p) => [p.name],
      (p) => p,
    );
  }

  /** A permission string is known when it names a type, or is a wildcard covering at least one. */
  isKnown(permission: string): boolean {
    if (this.types.has(permission)) return true;
    if (permission === '*' || permission.endsWith('.*')) {
      return [...this.types.keys()].some((name) => permits([permission], name));
    }
    return false;
  }

  /** Effective server permissions: the server role's, plus named roles', capped for read-only roles. */
  serverPermissions(role: ServerRole, namedRolePermissions: string[]): string[] {
    const all = new Set([...ROLE_PERMISSIONS[role], ...namedRolePermissions]);
    const list = [...all];
    return role === 'reader' || role === 'demo' ? list.filter((p) => !isWritePermission(p)) : list;
  }
}
